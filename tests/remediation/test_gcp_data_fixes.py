"""Cloud SQL and Cloud KMS fixes on the local Google Cloud server: SSL-only connections, key
rotation within 90 days and the removal of public members from a key's IAM policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .gcp_support import PROJECT, GcpRepair, gcp_api_fixture, gcp_fixture  # noqa: F401

SSL = "gcp.sql.ssl_required"
ROTATION = "gcp.kms.crypto_key_rotation"
KEY_PUBLIC = "gcp.kms.crypto_key_public"
SQL = f"sql/v1beta4/projects/{PROJECT}/instances"
LOCATION = f"projects/{PROJECT}/locations/asia-northeast1"
RING = f"{LOCATION}/keyRings/app-keys"
KEY = f"{RING}/cryptoKeys/customer-data"


def _instance(name: str, version: str, ip: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "sql#instance",
        "name": name,
        "project": PROJECT,
        "region": "asia-northeast1",
        "databaseVersion": version,
        "state": "RUNNABLE",
        "selfLink": f"https://sqladmin.googleapis.com/{SQL}/{name}",
        "settings": {
            "tier": "db-custom-2-7680",
            "settingsVersion": "7",
            "ipConfiguration": ip,
            "backupConfiguration": {"enabled": True},
        },
    }


def _ip(gcp: GcpRepair, name: str) -> dict[str, Any]:
    answer = gcp.read("sqladmin.v1beta4", "instances.get", project=PROJECT, instance=name)
    return dict(answer["settings"]["ipConfiguration"])


OPEN_IP = {
    "ipv4Enabled": True,
    "sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
    "authorizedNetworks": [{"kind": "sql#aclEntry", "name": "office", "value": "203.0.113.0/24"}],
}


@pytest.mark.parametrize(
    ("version", "require_ssl"), [("POSTGRES_16", False), ("SQLSERVER_2022_STANDARD", True)]
)
def test_ssl_only_plan_apply_rollback(gcp: GcpRepair, version: str, require_ssl: bool) -> None:
    gcp.setup_gcp([SSL])
    gcp.data[SQL] = [_instance("orders", version, dict(OPEN_IP))]
    original = _ip(gcp, "orders")
    gcp.scan([SSL])
    run = gcp.plan(SSL, "/instances/orders")
    assert run.before == {"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED", "requireSsl": False}
    assert run.after == {"sslMode": "ENCRYPTED_ONLY", "requireSsl": require_ssl}
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    live = _ip(gcp, "orders")
    assert live["sslMode"] == "ENCRYPTED_ONLY"
    assert live.get("requireSsl", False) is require_ssl
    assert live["authorizedNetworks"] == OPEN_IP["authorizedNetworks"]  # the rest is kept
    assert gcp.finding(SSL, "/instances/orders").state == "resolved"

    back = gcp.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert _ip(gcp, "orders") == original


def test_ssl_only_changed_between_plan_and_apply_is_not_touched(gcp: GcpRepair) -> None:
    gcp.setup_gcp([SSL])
    gcp.data[SQL] = [_instance("orders", "MYSQL_8_0", dict(OPEN_IP))]
    gcp.scan([SSL])
    run = gcp.plan(SSL, "/instances/orders")
    gcp.approve(run)
    gcp.data[SQL][0]["settings"]["ipConfiguration"]["sslMode"] = "ENCRYPTED_ONLY"
    assert gcp.apply(run).run.state == "aborted"
    assert gcp.api is not None and gcp.api.fake.writes == []


def test_ssl_only_operation_that_fails_is_reported_and_nothing_changes(gcp: GcpRepair) -> None:
    gcp.setup_gcp([SSL])
    gcp.data[SQL] = [_instance("orders", "MYSQL_8_0", dict(OPEN_IP))]
    original = _ip(gcp, "orders")
    gcp.scan([SSL])
    run = gcp.plan(SSL, "/instances/orders")
    gcp.approve(run)
    assert gcp.api is not None
    gcp.api.fake.failing_operations[f"{SQL}/orders"] = (
        "INTERNAL_ERROR",
        "An internal error occurred while updating the instance.",
    )
    try:
        outcome = gcp.apply(run)
    finally:
        gcp.api.fake.failing_operations.clear()
    assert outcome.run.state == "rolled_back"
    assert "internal error occurred" in outcome.run.reason
    assert _ip(gcp, "orders") == original
    assert gcp.finding(SSL, "/instances/orders").state == "open"


OPEN = "gcp.sql.no_open_authorized_networks"
NETWORKS = [
    {"kind": "sql#aclEntry", "name": "anywhere", "value": "0.0.0.0/0"},
    {"kind": "sql#aclEntry", "name": "office", "value": "203.0.113.0/24"},
    {"kind": "sql#aclEntry", "name": "v6", "value": "::/0"},
]


def test_open_authorized_networks_plan_apply_rollback(gcp: GcpRepair) -> None:
    gcp.setup_gcp([OPEN])
    ip = {**OPEN_IP, "authorizedNetworks": [dict(n) for n in NETWORKS]}
    gcp.data[SQL] = [_instance("orders", "MYSQL_8_0", ip)]
    gcp.scan([OPEN])
    run = gcp.plan(OPEN, "/instances/orders")
    assert [e["value"] for e in run.before] == ["0.0.0.0/0", "::/0"] and run.after == []
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert _ip(gcp, "orders")["authorizedNetworks"] == [NETWORKS[1]]
    back = gcp.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    restored = _ip(gcp, "orders")["authorizedNetworks"]
    assert sorted(restored, key=lambda e: e["name"]) == NETWORKS


def test_open_authorized_networks_changed_after_the_plan_is_not_touched(
    gcp: GcpRepair,
) -> None:
    gcp.setup_gcp([OPEN])
    ip = {**OPEN_IP, "authorizedNetworks": [dict(n) for n in NETWORKS]}
    gcp.data[SQL] = [_instance("orders", "MYSQL_8_0", ip)]
    gcp.scan([OPEN])
    run = gcp.plan(OPEN, "/instances/orders")
    gcp.approve(run)
    gcp.data[SQL][0]["settings"]["ipConfiguration"]["authorizedNetworks"].pop(0)
    assert gcp.apply(run).run.state == "aborted"
    assert gcp.api is not None and gcp.api.fake.writes == []


def _kms(gcp: GcpRepair, key: dict[str, Any], bindings: list[dict[str, Any]]) -> None:
    gcp.data[f"v1/projects/{PROJECT}/locations"] = [
        {"name": LOCATION, "locationId": "asia-northeast1"}
    ]
    gcp.data[f"v1/{LOCATION}/keyRings"] = [{"name": RING}]
    gcp.data[f"v1/{RING}/cryptoKeys"] = [
        {"name": KEY, "purpose": "ENCRYPT_DECRYPT", "createTime": "2025-01-01T00:00:00Z", **key}
    ]
    gcp.data[f"v1/{KEY}:getIamPolicy"] = {"version": 1, "etag": "BwYx", "bindings": bindings}


def _key(gcp: GcpRepair) -> dict[str, Any]:
    return gcp.read("cloudkms.v1", "projects.locations.keyRings.cryptoKeys.get", name=KEY)


def test_rotation_plan_apply_rollback(gcp: GcpRepair) -> None:
    gcp.setup_gcp([ROTATION])
    _kms(gcp, {}, [])
    original = _key(gcp)
    gcp.scan([ROTATION])
    run = gcp.plan(ROTATION, "/cryptoKeys/customer-data")
    assert run.before == {"rotationPeriod": None, "nextRotationTime": None}
    assert run.after["rotationPeriod"] == "7776000s"
    first = datetime.fromisoformat(run.after["nextRotationTime"].replace("Z", "+00:00"))
    assert timedelta(days=89) < first - datetime.now(UTC) <= timedelta(days=90)
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    live = _key(gcp)
    assert (live["rotationPeriod"], live["nextRotationTime"]) == (
        "7776000s",
        run.after["nextRotationTime"],
    )
    assert gcp.api is not None
    assert "updateMask=rotationPeriod%2CnextRotationTime" in gcp.api.fake.writes[0]
    assert gcp.finding(ROTATION, "/cryptoKeys/customer-data").state == "resolved"

    back = gcp.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert _key(gcp) == original  # no rotation fields again


def test_rotation_keeps_a_sooner_scheduled_rotation_and_restores_the_yearly_one(
    gcp: GcpRepair,
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    gcp.setup_gcp([ROTATION])
    _kms(gcp, {"rotationPeriod": "31536000s", "nextRotationTime": soon}, [])
    gcp.scan([ROTATION])
    run = gcp.plan(ROTATION, "/cryptoKeys/customer-data")
    assert run.before == {"rotationPeriod": "31536000s", "nextRotationTime": soon}
    assert run.after == {"rotationPeriod": "7776000s", "nextRotationTime": soon}
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert gcp.rollback(outcome.run).run.state == "rolled_back"
    assert _key(gcp)["rotationPeriod"] == "31536000s"
    assert _key(gcp)["nextRotationTime"] == soon


def test_rotation_changed_between_plan_and_apply_is_not_touched(gcp: GcpRepair) -> None:
    gcp.setup_gcp([ROTATION])
    _kms(gcp, {}, [])
    gcp.scan([ROTATION])
    run = gcp.plan(ROTATION, "/cryptoKeys/customer-data")
    gcp.approve(run)
    gcp.data[f"v1/{RING}/cryptoKeys"][0]["rotationPeriod"] = "2592000s"
    assert gcp.apply(run).run.state == "aborted"
    assert gcp.api is not None and gcp.api.fake.writes == []


DECRYPTER = "roles/cloudkms.cryptoKeyDecrypter"
APP = "serviceAccount:app@acme-prod.iam.gserviceaccount.com"


def test_key_public_members_plan_apply_rollback(gcp: GcpRepair) -> None:
    bindings = [{"role": DECRYPTER, "members": [APP, "allUsers"]}]
    gcp.setup_gcp([KEY_PUBLIC])
    _kms(gcp, {}, bindings)
    gcp.scan([KEY_PUBLIC])
    run = gcp.plan(KEY_PUBLIC, "/cryptoKeys/customer-data")
    assert (run.before, run.after) == ([{"role": DECRYPTER, "member": "allUsers"}], [])
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    policy = gcp.data[f"v1/{KEY}:getIamPolicy"]
    assert policy["bindings"] == [{"role": DECRYPTER, "members": [APP]}]
    assert gcp.rollback(outcome.run).run.state == "rolled_back"
    assert gcp.data[f"v1/{KEY}:getIamPolicy"]["bindings"] == bindings


def test_the_server_refuses_a_stale_key_policy_and_a_patch_without_mask(gcp: GcpRepair) -> None:
    gcp.setup_gcp([KEY_PUBLIC])
    _kms(gcp, {}, [{"role": DECRYPTER, "members": ["allUsers"]}])
    assert gcp.api is not None
    gcp.api.fake.read_only.clear()
    keys = "projects.locations.keyRings.cryptoKeys"
    with pytest.raises(HttpError) as stale:
        gcp.read(
            "cloudkms.v1", f"{keys}.setIamPolicy", resource=KEY, body={"policy": {"etag": "x"}}
        )
    assert stale.value.resp.status == 409 and b"ABORTED" in stale.value.content
    with pytest.raises(HttpError) as unmasked:
        gcp.read("cloudkms.v1", f"{keys}.patch", name=KEY, body={"rotationPeriod": "86400s"})
    assert unmasked.value.resp.status == 400 and b"INVALID_ARGUMENT" in unmasked.value.content
    assert "rotationPeriod" not in _key(gcp)
