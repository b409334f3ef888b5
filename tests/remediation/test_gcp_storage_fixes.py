"""Cloud Storage fixes on the local Google Cloud server: uniform bucket-level access and the
removal of public members from a bucket's IAM policy."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from posture.errors import FixRefused

from .gcp_support import NUMBER, PROJECT, GcpRepair, gcp_api_fixture, gcp_fixture  # noqa: F401

UNIFORM = "gcp.storage.uniform_bucket_level_access"
PUBLIC = "gcp.storage.bucket_not_public"


def _bucket(name: str, *, uniform: bool) -> dict[str, Any]:
    return {
        "kind": "storage#bucket",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
        "id": name,
        "name": name,
        "projectNumber": NUMBER,
        "metageneration": "4",
        "location": "ASIA-NORTHEAST1",
        "storageClass": "STANDARD",
        "iamConfiguration": {
            "bucketPolicyOnly": {"enabled": uniform},
            "uniformBucketLevelAccess": {"enabled": uniform},
            "publicAccessPrevention": "inherited",
        },
    }


def _plant(gcp: GcpRepair, bindings: list[dict[str, Any]], *, uniform: bool = False) -> None:
    gcp.data[f"storage/v1/b?project={PROJECT}"] = [
        _bucket("acme-assets", uniform=uniform),
        _bucket("acme-private", uniform=True),
    ]
    gcp.data["storage/v1/b/acme-assets/iam"] = {
        "kind": "storage#policy",
        "version": 1,
        "etag": "CAE=",
        "bindings": bindings,
    }
    gcp.data["storage/v1/b/acme-private/iam"] = {"kind": "storage#policy", "etag": "CAE="}


OWNERS = {"role": "roles/storage.legacyBucketOwner", "members": [f"projectOwner:{PROJECT}"]}


def _iam(gcp: GcpRepair) -> dict[str, Any]:
    return gcp.read("storage.v1", "buckets.getIamPolicy", bucket="acme-assets")


def test_uniform_access_plan_apply_rollback(gcp: GcpRepair) -> None:
    gcp.setup_gcp([UNIFORM])
    _plant(gcp, [OWNERS])
    original = gcp.read("storage.v1", "buckets.get", bucket="acme-assets")["iamConfiguration"]
    gcp.scan([UNIFORM])
    run = gcp.plan(UNIFORM, "/acme-assets")
    assert (run.before, run.after) == (False, True)
    assert gcp.api is not None and gcp.api.fake.writes == []  # planning changes nothing
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    live = gcp.read("storage.v1", "buckets.get", bucket="acme-assets")
    assert live["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert live["metageneration"] == "5"
    assert [w.split("?")[0] for w in gcp.api.fake.writes] == ["PATCH /storage/v1/b/acme-assets"]
    assert "ifMetagenerationMatch=4" in gcp.api.fake.writes[0]  # the precondition is sent
    finding = gcp.finding(UNIFORM, "/acme-assets")
    assert gcp.events(finding.id)[-1] == ("resolved", "fixed")

    back = gcp.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    restored = gcp.read("storage.v1", "buckets.get", bucket="acme-assets")["iamConfiguration"]
    assert restored == original
    assert gcp.finding(UNIFORM, "/acme-assets").state == "open"


def test_uniform_access_changed_between_plan_and_apply_is_not_touched(gcp: GcpRepair) -> None:
    gcp.setup_gcp([UNIFORM])
    _plant(gcp, [OWNERS])
    gcp.scan([UNIFORM])
    run = gcp.plan(UNIFORM, "/acme-assets")
    gcp.approve(run)
    bucket = gcp.data[f"storage/v1/b?project={PROJECT}"][0]
    bucket["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] = True  # fixed by hand
    outcome = gcp.apply(run)
    assert outcome.run.state == "aborted"
    assert "changed since the plan" in outcome.run.reason
    assert gcp.api is not None and gcp.api.fake.writes == []


def test_a_refused_write_is_reported_and_nothing_counts_as_fixed(gcp: GcpRepair) -> None:
    gcp.setup_gcp([UNIFORM])
    _plant(gcp, [OWNERS])
    gcp.scan([UNIFORM])
    run = gcp.plan(UNIFORM, "/acme-assets")
    gcp.approve(run)
    assert gcp.api is not None
    gcp.api.fake.read_only.add("fixer@posture-test.iam.gserviceaccount.com")
    outcome = gcp.apply(run)
    assert outcome.run.state == "rolled_back"
    assert "storage.buckets.update" in outcome.run.reason  # the missing permission is named
    assert "403" in outcome.run.reason
    assert gcp.api.fake.writes == []
    live = gcp.read("storage.v1", "buckets.get", bucket="acme-assets")
    assert live["metageneration"] == "4"
    assert gcp.finding(UNIFORM, "/acme-assets").state == "open"
    assert not [d for d in gcp.audit("fix.verify") if d.get("fix") == run.fix_id]


def test_without_a_write_service_account_the_plan_names_what_to_add(gcp: GcpRepair) -> None:
    gcp.setup_gcp([UNIFORM], write=False)
    _plant(gcp, [OWNERS])
    gcp.scan([UNIFORM])
    with pytest.raises(FixRefused) as refused:
        gcp.plan_all(policies=[UNIFORM])
    assert refused.value.reason == "no_write_credentials"
    assert "key_file" in str(refused.value)
    assert gcp.audit("fix.refused")[0]["reason"] == "no_write_credentials"


def _normal(policy: dict[str, Any]) -> list[tuple[str, list[str], str]]:
    return sorted(
        (b["role"], sorted(b["members"]), str(b.get("condition")))
        for b in policy.get("bindings") or []
    )


PUBLIC_BINDINGS = [
    OWNERS,
    {"role": "roles/storage.objectViewer", "members": ["allUsers", "user:web@example.jp"]},
    {"role": "roles/storage.legacyObjectReader", "members": ["allAuthenticatedUsers"]},
]


def test_public_members_plan_apply_rollback(gcp: GcpRepair) -> None:
    gcp.setup_gcp([PUBLIC])
    _plant(gcp, PUBLIC_BINDINGS, uniform=True)
    original = _iam(gcp)
    gcp.scan([PUBLIC])
    run = gcp.plan(PUBLIC, "/acme-assets")
    assert run.before == [
        {"role": "roles/storage.legacyObjectReader", "member": "allAuthenticatedUsers"},
        {"role": "roles/storage.objectViewer", "member": "allUsers"},
    ]
    assert run.after == []
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert _normal(_iam(gcp)) == [
        ("roles/storage.legacyBucketOwner", [f"projectOwner:{PROJECT}"], "None"),
        ("roles/storage.objectViewer", ["user:web@example.jp"], "None"),
    ]
    assert gcp.finding(PUBLIC, "/acme-assets").state == "resolved"

    back = gcp.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert _normal(_iam(gcp)) == _normal(original)
    assert _iam(gcp)["etag"] != original["etag"]  # a new policy version, same grants


def test_public_members_stale_etag_is_refused_by_the_server(gcp: GcpRepair) -> None:
    _plant(gcp, PUBLIC_BINDINGS)
    gcp.setup_gcp([PUBLIC])
    assert gcp.api is not None
    gcp.api.fake.read_only.clear()
    try:
        gcp.read(
            "storage.v1",
            "buckets.setIamPolicy",
            bucket="acme-assets",
            body={"bindings": [OWNERS], "etag": "stale"},
        )
    except HttpError as exc:
        assert exc.resp.status == 412
        assert b"conditionNotMet" in exc.content
    else:
        raise AssertionError("a stale etag was accepted")
    assert _normal(_iam(gcp)) == _normal({"bindings": PUBLIC_BINDINGS})
