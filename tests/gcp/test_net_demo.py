"""The demo organisation's section 2-4 data: the hardened project passes every policy of
those sections, the production project shows the mistakes the demo tells about."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from posture.catalog import load_catalog
from posture.connectors.gcp.entry import collect
from posture.demo import saas_gcp
from posture.engine.evaluate import evaluate
from posture.localapi.gcp import gcp_server
from posture.models import Status

CATALOG = load_catalog()
SERVICES = ("compute", "dns", "logging", "monitoring", "serviceusage")
MINE = sorted(t for t in CATALOG.specs if t.split(".")[1] in SERVICES)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    with gcp_server(tmp_path_factory.mktemp("gcpdemo"), saas_gcp.populate) as server:
        settings = {
            "organization_id": saas_gcp.ORGANIZATION_ID,
            "key_file": str(server.key_file),
            "root_url": server.url,
            "ca_bundle": str(server.ca_bundle),
        }
        inventory = collect(
            "demo", settings, [CATALOG.specs[t] for t in MINE], sleep=lambda _: None
        )
        assert inventory.failures == []
        policies = [p for p in CATALOG.policies.values() if p.resource in MINE]
        yield evaluate(policies, inventory.resources)


def test_hardened_project_has_no_failure(results: list[Any]) -> None:
    hardened = [r for r in results if r.region.split("/")[0] == saas_gcp.HARDENED]
    assert hardened, "the hardened project was not scanned"
    failing = sorted(
        r.policy_id
        for r in hardened
        if r.status is not Status.PASS and r.status is not Status.NOT_APPLICABLE
    )
    assert failing == []
    # every project-level check ran there and passed
    passed = {r.policy_id for r in hardened if r.status is Status.PASS}
    assert {
        "gcp.logging.audit_logs_all_services",
        "gcp.logging.sink_exports_all_logs",
        "gcp.monitoring.log_alert_project_ownership_changes",
        "gcp.monitoring.log_alert_sql_instance_config_changes",
        "gcp.serviceusage.cloud_asset_inventory_enabled",
        "gcp.compute.project_os_login_enabled",
        "gcp.compute.firewall_ssh_from_internet",
        "gcp.dns.managed_zone_dnssec_enabled",
    } <= passed


def test_production_project_shows_its_mistakes(results: list[Any]) -> None:
    prod = {
        r.policy_id.split(".", 2)[2]
        for r in results
        if r.region.split("/")[0] == saas_gcp.PROD and r.status is Status.FAIL
    }
    assert {
        "instance_default_service_account_full_access",
        "instance_serial_port_disabled",
        "instance_no_public_ip",
        "network_not_default",
        "firewall_ssh_from_internet",
        "firewall_rdp_from_internet",
        "subnet_flow_logs_enabled",
        "target_https_proxy_weak_ssl_policy",
        "managed_zone_dnssec_enabled",
        "audit_logs_all_services",
        "sink_exports_all_logs",
        "sink_bucket_retention_locked",
        "log_alert_project_ownership_changes",
        "cloud_asset_inventory_enabled",
        "project_os_login_enabled",
        "backend_service_logging_enabled",
    } <= prod
    assert "log_alert_vpc_firewall_rule_changes" not in prod
