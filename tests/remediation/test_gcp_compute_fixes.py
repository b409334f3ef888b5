"""Compute Engine fixes on the local Google Cloud server: firewall rules open to the
internet on SSH/RDP, project-wide OS Login and a VM's serial console."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .gcp_support import (  # noqa: F401
    COMPUTE,
    PROJECT,
    GcpRepair,
    gcp_api_fixture,
    gcp_fixture,
)

SSH = "gcp.compute.firewall_ssh_from_internet"
RDP = "gcp.compute.firewall_rdp_from_internet"
OS_LOGIN = "gcp.compute.project_os_login_enabled"
SERIAL = "gcp.compute.instance_serial_port_disabled"
ZONE = "asia-northeast1-b"


def _rule(name: str, ports: list[str]) -> dict[str, Any]:
    return {
        "kind": "compute#firewall",
        "name": name,
        "network": f"{COMPUTE}/global/networks/default",
        "selfLink": f"{COMPUTE}/global/firewalls/{name}",
        "direction": "INGRESS",
        "priority": 1000,
        "sourceRanges": ["0.0.0.0/0"],
        "allowed": [{"IPProtocol": "tcp", "ports": ports}],
    }


def _firewalls(gcp: GcpRepair) -> None:
    gcp.data[f"compute/v1/projects/{PROJECT}/global/firewalls"] = [
        _rule("allow-admin", ["22", "3389"]),
        _rule("allow-web", ["443"]),
    ]


def _rule_live(gcp: GcpRepair) -> dict[str, Any]:
    return gcp.read("compute.v1", "firewalls.get", project=PROJECT, firewall="allow-admin")


def test_firewall_disabled_resolves_ssh_and_rdp_and_rolls_back(gcp: GcpRepair) -> None:
    gcp.setup_gcp([SSH, RDP])
    _firewalls(gcp)
    assert gcp.api is not None
    gcp.api.fake.pending_operations = True  # the patch answers RUNNING: the fix waits for it
    original = _rule_live(gcp)
    gcp.scan([SSH, RDP])
    outcome = gcp.plan_all(policies=[SSH, RDP])
    assert len(outcome.runs) == 1  # one run per fix and resource covers both findings
    run = outcome.runs[0]
    assert (run.before, run.after) == (False, True)
    gcp.approve(run)
    applied = gcp.apply(run)
    assert applied.run.state == "verified", applied.run.reason
    assert _rule_live(gcp)["disabled"] is True
    waits = [r for r in gcp.api.fake.requests if "/global/operations/" in r]
    assert waits and all(r.startswith("POST ") and "/wait" in r for r in waits)
    assert gcp.finding(SSH, "/allow-admin").state == "resolved"
    assert gcp.finding(RDP, "/allow-admin").state == "resolved"
    untouched = gcp.read("compute.v1", "firewalls.get", project=PROJECT, firewall="allow-web")
    assert "disabled" not in untouched

    back = gcp.rollback(applied.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert _rule_live(gcp) == original
    gcp.api.fake.pending_operations = False


def test_firewall_changed_between_plan_and_apply_is_not_touched(gcp: GcpRepair) -> None:
    gcp.setup_gcp([SSH])
    _firewalls(gcp)
    gcp.scan([SSH])
    run = gcp.plan(SSH, "/allow-admin")
    gcp.approve(run)
    gcp.data[f"compute/v1/projects/{PROJECT}/global/firewalls"][0]["disabled"] = True
    assert gcp.apply(run).run.state == "aborted"
    assert gcp.api is not None and gcp.api.fake.writes == []


def _project(gcp: GcpRepair, items: list[dict[str, str]]) -> None:
    gcp.data[f"compute/v1/projects/{PROJECT}"] = {
        "kind": "compute#project",
        "name": PROJECT,
        "selfLink": COMPUTE,
        "commonInstanceMetadata": {
            "kind": "compute#metadata",
            "fingerprint": "cHJvamVjdA==",
            "items": items,
        },
    }


def _metadata(gcp: GcpRepair) -> dict[str, Any]:
    answer = gcp.read("compute.v1", "projects.get", project=PROJECT)
    return dict(answer["commonInstanceMetadata"])


PROJECT_ITEMS = [
    {"key": "enable-oslogin", "value": "FALSE"},
    {"key": "ssh-keys", "value": "ops:ssh-ed25519 AAAA ops"},
]


def test_project_os_login_plan_apply_rollback(gcp: GcpRepair) -> None:
    gcp.setup_gcp([OS_LOGIN])
    _project(gcp, PROJECT_ITEMS)
    gcp.scan([OS_LOGIN])
    run = gcp.plan(OS_LOGIN, f"projects/{PROJECT}")
    assert (run.before, run.after) == ("FALSE", "TRUE")
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    live = _metadata(gcp)
    assert live["items"] == [
        {"key": "enable-oslogin", "value": "TRUE"},
        {"key": "ssh-keys", "value": "ops:ssh-ed25519 AAAA ops"},
    ]
    assert live["fingerprint"] != "cHJvamVjdA=="
    assert gcp.finding(OS_LOGIN, f"projects/{PROJECT}").state == "resolved"

    back = gcp.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert _metadata(gcp)["items"] == PROJECT_ITEMS


def test_project_os_login_key_absent_is_removed_again(gcp: GcpRepair) -> None:
    gcp.setup_gcp([OS_LOGIN])
    _project(gcp, [{"key": "serial-port-enable", "value": "TRUE"}])
    gcp.scan([OS_LOGIN])
    run = gcp.plan(OS_LOGIN, f"projects/{PROJECT}")
    assert (run.before, run.after) == (None, "TRUE")
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert gcp.rollback(outcome.run).run.state == "rolled_back"
    assert _metadata(gcp)["items"] == [{"key": "serial-port-enable", "value": "TRUE"}]


def test_a_stale_metadata_fingerprint_is_refused_by_the_server(gcp: GcpRepair) -> None:
    _project(gcp, PROJECT_ITEMS)
    gcp.setup_gcp([OS_LOGIN])
    assert gcp.api is not None
    gcp.api.fake.read_only.clear()
    with pytest.raises(HttpError) as refused:
        gcp.read(
            "compute.v1",
            "projects.setCommonInstanceMetadata",
            project=PROJECT,
            body={"fingerprint": "c3RhbGU=", "items": []},
        )
    assert refused.value.resp.status == 412
    assert b"conditionNotMet" in refused.value.content
    assert _metadata(gcp)["items"] == PROJECT_ITEMS


def _vm(gcp: GcpRepair, own: list[dict[str, str]] | None) -> None:
    metadata: dict[str, Any] = {"kind": "compute#metadata", "fingerprint": "dm0tMQ=="}
    if own is not None:
        metadata["items"] = own
    gcp.data[f"compute/v1/projects/{PROJECT}/aggregated/instances"] = {
        f"zones/{ZONE}": {
            "instances": [
                {
                    "kind": "compute#instance",
                    "name": "web-1",
                    "zone": f"{COMPUTE}/zones/{ZONE}",
                    "selfLink": f"{COMPUTE}/zones/{ZONE}/instances/web-1",
                    "status": "RUNNING",
                    "metadata": metadata,
                }
            ]
        }
    }


def _vm_metadata(gcp: GcpRepair) -> dict[str, Any]:
    answer = gcp.read("compute.v1", "instances.get", project=PROJECT, zone=ZONE, instance="web-1")
    return dict(answer["metadata"])


def test_serial_port_inherited_from_the_project_is_overridden_and_restored(
    gcp: GcpRepair,
) -> None:
    gcp.setup_gcp([SERIAL])
    _project(gcp, [{"key": "serial-port-enable", "value": "TRUE"}])
    _vm(gcp, [{"key": "startup-script", "value": "echo hi"}])
    original = _vm_metadata(gcp)
    gcp.scan([SERIAL])
    run = gcp.plan(SERIAL, "/instances/web-1")
    assert (run.before, run.after) == (None, "FALSE")
    gcp.approve(run)
    outcome = gcp.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert _vm_metadata(gcp)["items"] == [
        {"key": "startup-script", "value": "echo hi"},
        {"key": "serial-port-enable", "value": "FALSE"},
    ]
    assert _metadata(gcp)["items"] == [{"key": "serial-port-enable", "value": "TRUE"}]
    assert gcp.api is not None
    assert any(
        "/zones/asia-northeast1-b/instances/web-1/setMetadata" in w for w in gcp.api.fake.writes
    )

    back = gcp.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert _vm_metadata(gcp)["items"] == original["items"]


def test_serial_port_changed_between_plan_and_apply_is_not_touched(gcp: GcpRepair) -> None:
    gcp.setup_gcp([SERIAL])
    _project(gcp, [])
    _vm(gcp, [{"key": "serial-port-enable", "value": "1"}])
    gcp.scan([SERIAL])
    run = gcp.plan(SERIAL, "/instances/web-1")
    assert (run.before, run.after) == ("1", "FALSE")
    gcp.approve(run)
    _vm(gcp, [{"key": "serial-port-enable", "value": "true"}])
    assert gcp.apply(run).run.state == "aborted"
    assert gcp.api is not None and gcp.api.fake.writes == []


CSEK = "gcp.compute.instance_disks_csek"


def test_csek_disks_are_a_manual_step_with_the_recommendation(gcp: GcpRepair) -> None:
    gcp.setup_gcp([CSEK], write=False)  # a manual step needs no write credentials
    _project(gcp, [])
    _vm(gcp, [])
    vms = gcp.data[f"compute/v1/projects/{PROJECT}/aggregated/instances"]
    vms[f"zones/{ZONE}"]["instances"][0]["disks"] = [
        {"deviceName": "web-1", "boot": True, "type": "PERSISTENT"}
    ]
    gcp.scan([CSEK])
    outcome = gcp.plan_all(policies=[CSEK])
    assert outcome.runs == [] and outcome.refused == []
    [step] = outcome.manual
    assert step.fix_id == "gcp.compute.disks_customer_supplied_key"
    assert step.recommendation["ja"] and step.recommendation["en"]
    assert gcp.api is not None and gcp.api.fake.writes == []
