"""The local Google Cloud server's answers, in Google's shapes, without the client."""

from __future__ import annotations

from typing import Any

from posture.localapi.gcp import FakeGcp, GcpProject, omit_empty


def fake() -> FakeGcp:
    gcp = FakeGcp()
    gcp.tokens["t"] = "scanner@example.iam.gserviceaccount.com"
    gcp.apis += ["storage.v1", "compute.v1"]
    project = gcp.add_project(GcpProject("acme-prod", "111", "organizations/1"))
    project.collections = {
        "v1/projects/acme-prod/serviceAccounts": [
            {"email": f"sa{n}@x", "disabled": False} for n in range(3)
        ],
        "storage/v1/b?project=acme-prod": [{"name": "logs", "labels": {}}],
        "compute/v1/projects/acme-prod/aggregated/instances": {
            "items": {
                "zones/asia-northeast1-a": {"instances": [{"name": "vm1"}]},
                "zones/us-east1-b": {},
            }
        },
    }
    gcp.add_project(GcpProject("acme-dev", "222", "organizations/1"))
    return gcp


def get(gcp: FakeGcp, path: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    return gcp.answer("GET", path, "Bearer t", {})


def test_list_pages_and_omits_empty_fields() -> None:
    gcp = fake()
    status, _, first = get(gcp, "/v1/projects/acme-prod/serviceAccounts")
    assert status == 200 and first["nextPageToken"] == "2"
    assert first["accounts"] == [{"email": "sa0@x"}, {"email": "sa1@x"}]  # disabled: false omitted
    _, _, last = get(gcp, "/v1/projects/acme-prod/serviceAccounts?pageToken=2")
    assert last == {"accounts": [{"email": "sa2@x"}]}
    # a project without data: an empty page, the list itself omitted
    assert get(gcp, "/v1/projects/acme-dev/serviceAccounts") == (200, {}, {})


def test_query_keyed_data_and_whole_answers() -> None:
    gcp = fake()
    assert get(gcp, "/storage/v1/b?project=acme-prod&alt=json")[2] == {"items": [{"name": "logs"}]}
    assert get(gcp, "/storage/v1/b?project=acme-dev")[2] == {}
    _, _, agg = get(gcp, "/compute/v1/projects/acme-prod/aggregated/instances")
    assert agg == {"items": {"zones/asia-northeast1-a": {"instances": [{"name": "vm1"}]}}}


def test_unknown_get_is_404_and_a_missing_project_403() -> None:
    gcp = fake()
    assert get(gcp, "/v1/projects/acme-prod/serviceAccounts/nobody@x")[0] == 404
    status, _, body = get(gcp, "/v3/projects/acme-gone")
    assert status == 403
    assert body["error"]["details"][0]["metadata"] == {"permission": "resourcemanager.projects.get"}


def test_injected_errors() -> None:
    gcp = fake()
    gcp.disabled.add(("acme-dev", "storage"))
    status, _, body = get(gcp, "/storage/v1/b?project=acme-dev")
    assert status == 403 and body["error"]["details"][0]["reason"] == "SERVICE_DISABLED"
    assert body["error"]["details"][0]["metadata"]["consumer"] == "projects/222"
    assert get(gcp, "/storage/v1/b?project=acme-prod")[0] == 200  # only that project
    gcp.throttle_once.add("v1/projects/acme-prod/serviceAccounts")
    status, headers, _ = get(gcp, "/v1/projects/acme-prod/serviceAccounts")
    assert (status, headers) == (429, {"Retry-After": "1"})
    assert get(gcp, "/v1/projects/acme-prod/serviceAccounts")[0] == 200
    assert gcp.answer("GET", "/v1/projects/acme-prod/serviceAccounts", "Bearer nope", {})[0] == 401


def test_omit_empty_keeps_zero_and_true() -> None:
    assert omit_empty({"a": 0, "b": False, "c": True, "d": [], "e": {"f": None}, "g": ""}) == {
        "a": 0,
        "c": True,
    }
