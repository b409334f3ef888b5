"""Cloud Storage fixes on the local Google Cloud server: uniform bucket-level access and the
removal of public members from a bucket's IAM policy."""

from __future__ import annotations

from typing import Any

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
