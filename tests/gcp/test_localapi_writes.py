"""The local Google Cloud server's write methods, without the client: preconditions, the
read-only switch, operations and the copies a write keeps in step."""

from __future__ import annotations

from typing import Any

from posture.localapi.gcp import FIXER, SCANNER, FakeGcp, GcpProject

BASE = "compute/v1/projects/acme-prod"


def fake() -> FakeGcp:
    gcp = FakeGcp()
    gcp.tokens |= {"scan": SCANNER, "fix": FIXER}
    project = gcp.add_project(GcpProject("acme-prod", "111", "organizations/1"))
    project.collections = {
        "storage/v1/b?project=acme-prod": [{"name": "logs", "metageneration": "3"}],
        "storage/v1/b/logs": {"name": "logs", "metageneration": "3", "location": "US"},
        f"{BASE}/global/firewalls": [{"name": "allow-ssh", "sourceRanges": ["0.0.0.0/0"]}],
        BASE: {
            "name": "acme-prod",
            "commonInstanceMetadata": {
                "fingerprint": "ZnA=",
                "items": [{"key": "a", "value": "1"}],
            },
        },
    }
    return gcp


def call(gcp: FakeGcp, method: str, path: str, body: dict[str, Any], token: str = "fix") -> Any:
    return gcp.answer(method, path, f"Bearer {token}", body)


def test_the_scanning_account_may_not_write_and_is_told_the_permission() -> None:
    gcp = fake()
    status, _, body = call(
        gcp, "PATCH", f"/{BASE}/global/firewalls/allow-ssh", {"disabled": True}, token="scan"
    )
    assert status == 403
    assert body["error"]["details"][0]["metadata"]["permission"] == "compute.firewalls.update"
    assert gcp.writes == []
    assert "disabled" not in call(gcp, "GET", f"/{BASE}/global/firewalls/allow-ssh", {})[2]


def test_a_bucket_patch_with_a_stale_metageneration_is_refused() -> None:
    gcp = fake()
    status, _, body = call(
        gcp, "PATCH", "/storage/v1/b/logs?ifMetagenerationMatch=2", {"labels": {"x": "y"}}
    )
    assert status == 412
    assert body["error"]["errors"][0]["reason"] == "conditionNotMet"
    assert "status" not in body["error"]  # Cloud Storage's error bodies carry none
    status, _, bucket = call(
        gcp, "PATCH", "/storage/v1/b/logs?ifMetagenerationMatch=3", {"labels": {"x": "y"}}
    )
    assert status == 200 and bucket["metageneration"] == "4"
    listed = call(gcp, "GET", "/storage/v1/b?project=acme-prod", {})[2]["items"][0]
    assert listed["labels"] == {"x": "y"}  # the list's copy and the get's copy change together


def test_metadata_needs_the_current_fingerprint_and_answers_an_operation() -> None:
    gcp = fake()
    path = f"/{BASE}/setCommonInstanceMetadata"
    status, _, body = call(gcp, "POST", path, {"fingerprint": "b2xk", "items": []})
    assert status == 412 and body["error"]["errors"][0]["reason"] == "conditionNotMet"
    status, _, op = call(gcp, "POST", path, {"fingerprint": "ZnA=", "items": []})
    assert status == 200 and op["kind"] == "compute#operation" and op["status"] == "DONE"
    stored = op["selfLink"].removeprefix(gcp.base_url)
    assert call(gcp, "POST", f"/{stored}/wait", {})[2]["name"] == op["name"]
    project = call(gcp, "GET", f"/{BASE}", {})[2]
    assert "items" not in project["commonInstanceMetadata"]
    assert project["commonInstanceMetadata"]["fingerprint"] != "ZnA="


def test_a_failing_operation_changes_nothing() -> None:
    gcp = fake()
    gcp.failing_operations[f"{BASE}/global/firewalls"] = ("RESOURCE_NOT_READY", "busy")
    status, _, op = call(gcp, "PATCH", f"/{BASE}/global/firewalls/allow-ssh", {"disabled": True})
    assert status == 200 and op["status"] == "DONE"
    assert op["error"]["errors"] == [{"code": "RESOURCE_NOT_READY", "message": "busy"}]
    assert "disabled" not in call(gcp, "GET", f"/{BASE}/global/firewalls/allow-ssh", {})[2]
