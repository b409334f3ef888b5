"""Collecting the Compute Engine, Cloud DNS, Logging, Monitoring and Service Usage types from
the local Google Cloud server (every listing pages, empty fields omitted) and judging them
with the CIS section 2-4 policies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import load_catalog
from posture.connectors.gcp.entry import collect
from posture.engine.evaluate import evaluate
from posture.localapi.gcp import FakeGcp, GcpOrganization, GcpProject, RunningGcp, gcp_server
from posture.models import Resource, Status

PROJECT = "net-prod"
NUMBER = "510000000001"
ORG = "555000000001"
C = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"
ZONE = f"{C}/zones/asia-northeast1-a"
REGION = f"{C}/regions/asia-northeast1"
CATALOG = load_catalog()
MINE = {
    t
    for t, s in CATALOG.specs.items()
    if t.split(".")[1] in ("compute", "dns", "logging", "monitoring", "serviceusage")
}
FW_FILTER = (
    'resource.type="gce_firewall_rule" AND (protoPayload.methodName:"compute.firewalls.patch" '
    'OR protoPayload.methodName:"compute.firewalls.insert" '
    'OR protoPayload.methodName:"compute.firewalls.delete")'
)


def _instance(name: str, **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "compute#instance",
        "id": str(abs(hash(name)) % 10**15),
        "name": name,
        "zone": ZONE,
        "selfLink": f"{ZONE}/instances/{name}",
        "machineType": f"{ZONE}/machineTypes/e2-medium",
        "status": "RUNNING",
        "canIpForward": False,  # false booleans are left out by the server, as by Google
        "networkInterfaces": [
            {"name": "nic0", "network": f"{C}/global/networks/prod", "networkIP": "10.0.0.2"}
        ],
        "disks": [{"deviceName": name, "boot": True, "type": "PERSISTENT", "mode": "READ_WRITE"}],
        "metadata": {"kind": "compute#metadata", "fingerprint": "Zm9v", "items": []},
        "labels": {},
    }
    doc.update(fields)
    return doc


def _setup(fake: FakeGcp) -> None:
    org = GcpOrganization(ORG, "example.jp")
    org.iam_policy = {
        "version": 1,
        "bindings": [
            {
                "role": "roles/resourcemanager.organizationAdmin",
                "members": ["group:admins@example.jp"],
            }
        ],
        # Data Access logs set on the organisation add to the project's ADMIN_READ
        "auditConfigs": [
            {
                "service": "allServices",
                "auditLogConfigs": [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}],
            }
        ],
    }
    org.collections = {f"v2/organizations/{ORG}/sinks": []}
    fake.organizations[ORG] = org
    project = GcpProject(PROJECT, NUMBER, f"organizations/{ORG}")
    project.iam_policy = {
        "version": 1,
        "bindings": [{"role": "roles/owner", "members": ["group:admins@example.jp"]}],
        "auditConfigs": [
            {"service": "allServices", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}
        ],
    }
    default_sa = f"{NUMBER}-compute@developer.gserviceaccount.com"
    project.collections = {
        f"compute/v1/projects/{PROJECT}": {
            "kind": "compute#project",
            "id": "7700000001",
            "name": PROJECT,
            "selfLink": C,
            "commonInstanceMetadata": {
                "kind": "compute#metadata",
                "fingerprint": "cHJq",
                "items": [
                    {"key": "enable-oslogin", "value": "TRUE"},
                    {"key": "serial-port-enable", "value": "TRUE"},
                ],
            },
            "defaultServiceAccount": default_sa,
        },
        f"compute/v1/projects/{PROJECT}/aggregated/instances": {
            "zones/asia-northeast1-a": {
                "instances": [
                    _instance(
                        "web-1",
                        serviceAccounts=[
                            {
                                "email": default_sa,
                                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                            }
                        ],
                        canIpForward=True,
                        networkInterfaces=[
                            {
                                "name": "nic0",
                                "network": f"{C}/global/networks/prod",
                                "networkIP": "10.0.0.3",
                                "accessConfigs": [
                                    {
                                        "type": "ONE_TO_ONE_NAT",
                                        "name": "External NAT",
                                        "natIP": "203.0.113.10",
                                    }
                                ],
                            }
                        ],
                    ),
                    _instance(
                        "app-1",
                        serviceAccounts=[
                            {
                                "email": f"app@{PROJECT}.iam.gserviceaccount.com",
                                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                            }
                        ],
                        shieldedInstanceConfig={
                            "enableSecureBoot": False,
                            "enableVtpm": True,
                            "enableIntegrityMonitoring": True,
                        },
                        metadata={
                            "kind": "compute#metadata",
                            "fingerprint": "YXBw",
                            "items": [
                                {"key": "block-project-ssh-keys", "value": "TRUE"},
                                {"key": "serial-port-enable", "value": "FALSE"},
                            ],
                        },
                    ),
                ]
            },
            "zones/us-central1-a": {},  # a zone without instances answers only a warning
            "zones/asia-northeast1-b": {
                "instances": [
                    _instance(
                        "gke-main-pool-1",
                        labels={"goog-gke-node": ""},
                        metadata={
                            "items": [
                                {"key": "kube-env", "value": "KUBERNETES_MASTER_NAME: 10.0.0.2"}
                            ]
                        },
                        serviceAccounts=[
                            {
                                "email": default_sa,
                                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                            }
                        ],
                        canIpForward=True,
                    )
                ]
            },
        },
        f"compute/v1/projects/{PROJECT}/global/networks": [
            {
                "name": "default",
                "selfLink": f"{C}/global/networks/default",
                "autoCreateSubnetworks": True,
            },
            {
                "name": "prod",
                "selfLink": f"{C}/global/networks/prod",
                "autoCreateSubnetworks": False,
            },
            {
                "name": "old-net",
                "selfLink": f"{C}/global/networks/old-net",
                "IPv4Range": "10.240.0.0/16",
                "gatewayIPv4": "10.240.0.1",
            },
        ],
        f"compute/v1/projects/{PROJECT}/aggregated/subnetworks": {
            "regions/asia-northeast1": {
                "subnetworks": [
                    {
                        "name": "prod-tokyo",
                        "region": REGION,
                        "network": f"{C}/global/networks/prod",
                        "selfLink": f"{REGION}/subnetworks/prod-tokyo",
                        "ipCidrRange": "10.0.0.0/20",
                        "purpose": "PRIVATE",
                        "privateIpGoogleAccess": True,
                        "logConfig": {
                            "enable": True,
                            "aggregationInterval": "INTERVAL_5_SEC",
                            "flowSampling": 1,
                            "metadata": "INCLUDE_ALL_METADATA",
                        },
                    },
                    {
                        "name": "default",
                        "region": REGION,
                        "network": f"{C}/global/networks/default",
                        "selfLink": f"{REGION}/subnetworks/default",
                        "ipCidrRange": "10.146.0.0/20",
                        "privateIpGoogleAccess": False,
                        "logConfig": {"enable": False},
                    },
                    {
                        "name": "proxy-only",
                        "region": REGION,
                        "network": f"{C}/global/networks/prod",
                        "selfLink": f"{REGION}/subnetworks/proxy-only",
                        "ipCidrRange": "10.129.0.0/23",
                        "purpose": "REGIONAL_MANAGED_PROXY",
                        "role": "ACTIVE",
                    },
                ]
            },
        },
        f"compute/v1/projects/{PROJECT}/global/firewalls": [
            {
                "name": "default-allow-ssh",
                "network": f"{C}/global/networks/default",
                "selfLink": f"{C}/global/firewalls/default-allow-ssh",
                "direction": "INGRESS",
                "priority": 65534,
                "sourceRanges": ["0.0.0.0/0"],
                "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
                "disabled": False,
            },
            {
                "name": "allow-range",
                "network": f"{C}/global/networks/prod",
                "selfLink": f"{C}/global/firewalls/allow-range",
                "direction": "INGRESS",
                "sourceRanges": ["0.0.0.0/0"],
                "allowed": [{"IPProtocol": "tcp", "ports": ["3000-4000"]}],
            },
            {
                "name": "allow-iap",
                "network": f"{C}/global/networks/prod",
                "selfLink": f"{C}/global/firewalls/allow-iap",
                "direction": "INGRESS",
                "sourceRanges": ["35.235.240.0/20"],
                "allowed": [{"IPProtocol": "tcp", "ports": ["22", "3389"]}],
            },
        ],
        f"compute/v1/projects/{PROJECT}/aggregated/backendServices": {
            "global": {
                "backendServices": [
                    {
                        "name": "web-backend",
                        "selfLink": f"{C}/global/backendServices/web-backend",
                        "protocol": "HTTPS",
                        "loadBalancingScheme": "EXTERNAL_MANAGED",
                        "logConfig": {"enable": False},
                    }
                ]
            },
            "regions/asia-northeast1": {
                "backendServices": [
                    {
                        "name": "api-backend",
                        "selfLink": f"{REGION}/backendServices/api-backend",
                        "region": REGION,
                        "protocol": "HTTP",
                        "loadBalancingScheme": "INTERNAL_MANAGED",
                        "logConfig": {"enable": True, "sampleRate": 1},
                    }
                ]
            },
        },
        f"compute/v1/projects/{PROJECT}/aggregated/sslPolicies": {
            "global": {
                "sslPolicies": [
                    {
                        "name": "modern-tls12",
                        "selfLink": f"{C}/global/sslPolicies/modern-tls12",
                        "profile": "MODERN",
                        "minTlsVersion": "TLS_1_2",
                    },
                    {
                        "name": "compat",
                        "selfLink": f"{C}/global/sslPolicies/compat",
                        "profile": "COMPATIBLE",
                        "minTlsVersion": "TLS_1_0",
                    },
                ]
            },
        },
        f"compute/v1/projects/{PROJECT}/aggregated/targetHttpsProxies": {
            "global": {
                "targetHttpsProxies": [
                    {
                        "name": "web-proxy",
                        "selfLink": f"{C}/global/targetHttpsProxies/web-proxy",
                        "sslPolicy": f"{C}/global/sslPolicies/modern-tls12",
                    }
                ]
            },
            "regions/asia-northeast1": {
                "targetHttpsProxies": [
                    {
                        "name": "api-proxy",
                        "selfLink": f"{REGION}/targetHttpsProxies/api-proxy",
                        "region": REGION,
                    }
                ]
            },
        },
        f"compute/v1/projects/{PROJECT}/global/targetSslProxies": [
            {
                "name": "tcp-proxy",
                "selfLink": f"{C}/global/targetSslProxies/tcp-proxy",
                "sslPolicy": f"{C}/global/sslPolicies/compat",
            }
        ],
        f"dns/v1/projects/{PROJECT}/managedZones": [
            {
                "name": "example-jp",
                "dnsName": "example.jp.",
                "visibility": "public",
                "dnssecConfig": {
                    "state": "on",
                    "defaultKeySpecs": [
                        {"keyType": "keySigning", "algorithm": "rsasha256", "keyLength": 2048},
                        {"keyType": "zoneSigning", "algorithm": "rsasha1", "keyLength": 1024},
                    ],
                },
            },
            {
                "name": "example-com",
                "dnsName": "example.com.",
                "visibility": "public",
                "dnssecConfig": {"state": "off"},
            },
            {"name": "corp", "dnsName": "corp.internal.", "visibility": "private"},
        ],
        f"dns/v1/projects/{PROJECT}/policies": [
            {
                "name": "dns-logging",
                "enableLogging": True,
                "networks": [{"networkUrl": f"{C}/global/networks/prod"}],
            }
        ],
        f"v2/projects/{PROJECT}/sinks": [
            {
                "name": "_Default",
                "destination": f"logging.googleapis.com/projects/{PROJECT}/locations/global/buckets/_Default",
                "filter": 'NOT LOG_ID("cloudaudit.googleapis.com/activity")',
            },
            {
                "name": "_Required",
                "destination": f"logging.googleapis.com/projects/{PROJECT}/locations/global/buckets/_Required",
                "filter": 'LOG_ID("cloudaudit.googleapis.com/activity")',
            },
            {
                "name": "all-logs",
                "destination": "storage.googleapis.com/net-prod-all-logs",
                "disabled": False,
            },
            {
                "name": "to-archive",
                "destination": "storage.googleapis.com/net-archive",
                "filter": "severity>=WARNING",
            },
        ],
        "storage/v1/b/net-prod-all-logs": {
            "kind": "storage#bucket",
            "name": "net-prod-all-logs",
            "retentionPolicy": {"retentionPeriod": "31536000", "isLocked": True},
        },
        f"v2/projects/{PROJECT}/metrics": [
            {"name": "fw-changes", "filter": FW_FILTER},
            {
                "name": "route-changes",
                "filter": 'resource.type="gce_route" AND (protoPayload.methodName:"compute.routes.delete" OR protoPayload.methodName:"compute.routes.insert")',
            },
            {"name": "errors", "filter": "severity>=ERROR"},
        ],
        f"v3/projects/{PROJECT}/alertPolicies": [
            {
                "name": f"projects/{PROJECT}/alertPolicies/1",
                "displayName": "firewall",
                "enabled": True,
                "combiner": "OR",
                "conditions": [
                    {
                        "displayName": "fw",
                        "conditionThreshold": {
                            "filter": 'metric.type="logging.googleapis.com/user/fw-changes" AND resource.type="global"',
                            "comparison": "COMPARISON_GT",
                        },
                    }
                ],
            },
            {
                "name": f"projects/{PROJECT}/alertPolicies/2",
                "displayName": "routes",
                "enabled": False,
                "combiner": "OR",
                "conditions": [
                    {
                        "displayName": "routes",
                        "conditionThreshold": {
                            "filter": 'metric.type="logging.googleapis.com/user/route-changes"'
                        },
                    }
                ],
            },
        ],
        f"v1/projects/{PROJECT}/services/cloudasset.googleapis.com": {
            "name": f"projects/{NUMBER}/services/cloudasset.googleapis.com",
            "parent": f"projects/{NUMBER}",
            "state": "DISABLED",
        },
    }
    fake.add_project(project)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGcp]:
    with gcp_server(tmp_path_factory.mktemp("gcpnet"), _setup) as running:
        yield running


def _settings(server: RunningGcp) -> dict[str, Any]:
    return {
        "projects": [PROJECT],
        "key_file": str(server.key_file),
        "root_url": server.url,
        "ca_bundle": str(server.ca_bundle),
    }


@pytest.fixture(scope="module")
def scanned(server: RunningGcp) -> tuple[list[Resource], dict[tuple[str, str], str], list[str]]:
    specs = [CATALOG.specs[t] for t in sorted(MINE)]
    inventory = collect("net", _settings(server), specs, sleep=lambda _: None)
    failed = {(f.resource_type, f.region): f.message for f in inventory.failures}
    return inventory.resources, failed, list(server.fake.requests)


def _outcomes(scanned: Any) -> dict[tuple[str, str], Status]:
    resources, failed, _ = scanned
    policies = [p for p in CATALOG.policies.values() if p.resource in MINE]
    names = {r.uid: r.name for r in resources}
    return {
        (r.policy_id.split(".", 2)[2], names.get(r.resource_uid, r.region)): r.status
        for r in evaluate(policies, resources, failed_scopes=failed)
    }


def test_every_type_is_collected_without_failure(scanned: Any) -> None:
    resources, failed, _ = scanned
    assert failed == {}
    by_type: dict[str, list[str]] = {}
    for r in resources:
        by_type.setdefault(r.type, []).append(r.name)
    assert sorted(by_type["gcp.compute.instance"]) == ["app-1", "gke-main-pool-1", "web-1"]
    assert sorted(by_type["gcp.compute.subnetwork"]) == ["default", "prod-tokyo", "proxy-only"]
    assert sorted(by_type["gcp.compute.backend_service"]) == ["api-backend", "web-backend"]
    assert sorted(by_type["gcp.compute.target_https_proxy"]) == ["api-proxy", "web-proxy"]
    assert sorted(by_type["gcp.logging.sink"]) == [
        "_Default",
        "_Required",
        "all-logs",
        "to-archive",
    ]
    assert by_type["gcp.logging.audit_config"] == [PROJECT]
    # organisation-scope types are not collected for a project connection
    assert "gcp.logging.organization_sink" not in by_type


def test_aggregated_lists_page_and_calls_are_made_once(scanned: Any) -> None:
    _, _, requests = scanned
    pages = [r for r in requests if "/aggregated/instances" in r]
    assert len(pages) == 2 and "pageToken=2" in pages[1]
    # projects.get of Compute (instance metadata and the project type) is asked once
    assert sum(1 for r in requests if r.split("?")[0] == f"GET /compute/v1/projects/{PROJECT}") == 1
    # sslPolicies is listed once for both proxy types
    assert sum(1 for r in requests if "/aggregated/sslPolicies" in r) == 1


def test_documents_keep_google_shapes(scanned: Any) -> None:
    resources, _, _ = scanned
    web = next(r for r in resources if r.name == "web-1")
    app = next(r for r in resources if r.name == "app-1")
    assert web.region == f"{PROJECT}/asia-northeast1-a"
    assert "canIpForward" not in app.data  # false is omitted
    assert web.data["project_metadata"]["items"][1] == {
        "key": "serial-port-enable",
        "value": "TRUE",
    }
    proxy = next(r for r in resources if r.name == "web-proxy")
    assert proxy.data["ssl_policy"]["name"] == "modern-tls12"
    assert next(r for r in resources if r.name == "api-proxy").data["ssl_policy"] is None
    alerts = next(r for r in resources if r.type == "gcp.monitoring.log_metric_alerts").data
    assert "alert_policies" not in alerts
    watched = {
        m["name"]: [p["displayName"] for p in m["alert_policies"]] for m in alerts["metrics"]
    }
    assert watched == {"fw-changes": ["firewall"], "route-changes": ["routes"], "errors": []}


def test_policies_on_collected_documents(scanned: Any) -> None:
    got = _outcomes(scanned)
    expected = {
        ("instance_default_service_account", "web-1"): Status.FAIL,
        ("instance_default_service_account", "app-1"): Status.PASS,
        ("instance_default_service_account", "gke-main-pool-1"): Status.NOT_APPLICABLE,
        ("instance_default_service_account_full_access", "web-1"): Status.FAIL,
        ("instance_block_project_ssh_keys", "web-1"): Status.FAIL,
        ("instance_block_project_ssh_keys", "app-1"): Status.PASS,
        ("instance_serial_port_disabled", "web-1"): Status.FAIL,  # inherited from the project
        ("instance_serial_port_disabled", "app-1"): Status.PASS,  # overridden on the instance
        ("instance_ip_forwarding_disabled", "web-1"): Status.FAIL,
        ("instance_ip_forwarding_disabled", "app-1"): Status.PASS,
        ("instance_no_public_ip", "web-1"): Status.FAIL,
        ("instance_no_public_ip", "app-1"): Status.PASS,
        ("instance_shielded_vm", "web-1"): Status.FAIL,
        ("instance_shielded_vm", "app-1"): Status.PASS,
        ("project_os_login_enabled", PROJECT): Status.PASS,
        ("network_not_default", "default"): Status.FAIL,
        ("network_not_default", "prod"): Status.PASS,
        ("network_not_legacy", "old-net"): Status.FAIL,
        ("network_dns_logging", "prod"): Status.PASS,
        ("network_dns_logging", "default"): Status.FAIL,
        ("network_dns_logging", "old-net"): Status.NOT_APPLICABLE,
        ("subnet_flow_logs_enabled", "prod-tokyo"): Status.PASS,
        ("subnet_flow_logs_enabled", "default"): Status.FAIL,
        ("subnet_flow_logs_enabled", "proxy-only"): Status.NOT_APPLICABLE,
        ("subnet_flow_logs_complete", "prod-tokyo"): Status.PASS,
        ("subnet_private_google_access", "default"): Status.FAIL,
        ("firewall_ssh_from_internet", "default-allow-ssh"): Status.FAIL,
        ("firewall_ssh_from_internet", "allow-range"): Status.PASS,
        ("firewall_ssh_from_internet", "allow-iap"): Status.PASS,
        ("firewall_rdp_from_internet", "allow-range"): Status.FAIL,
        ("firewall_rdp_from_internet", "allow-iap"): Status.PASS,
        ("backend_service_logging_enabled", "web-backend"): Status.FAIL,
        ("backend_service_logging_enabled", "api-backend"): Status.PASS,
        ("target_https_proxy_weak_ssl_policy", "web-proxy"): Status.PASS,
        ("target_https_proxy_weak_ssl_policy", "api-proxy"): Status.FAIL,
        ("target_ssl_proxy_weak_ssl_policy", "tcp-proxy"): Status.FAIL,
        ("managed_zone_dnssec_enabled", "example-jp"): Status.PASS,
        ("managed_zone_dnssec_enabled", "example-com"): Status.FAIL,
        ("managed_zone_dnssec_enabled", "corp"): Status.NOT_APPLICABLE,
        ("managed_zone_ksk_not_rsasha1", "example-jp"): Status.PASS,
        ("managed_zone_zsk_not_rsasha1", "example-jp"): Status.FAIL,
        ("audit_logs_all_services", PROJECT): Status.PASS,  # project + organisation together
        ("sink_exports_all_logs", PROJECT): Status.PASS,
        ("sink_bucket_retention_locked", "all-logs"): Status.PASS,
        ("sink_bucket_retention_locked", "to-archive"): Status.FAIL,  # bucket not found: null
        ("sink_bucket_retention_locked", "_Default"): Status.NOT_APPLICABLE,
        ("log_alert_vpc_firewall_rule_changes", PROJECT): Status.PASS,
        ("log_alert_vpc_route_changes", PROJECT): Status.FAIL,  # its alert policy is disabled
        ("log_alert_project_ownership_changes", PROJECT): Status.FAIL,
        ("cloud_asset_inventory_enabled", f"projects/{NUMBER}"): Status.FAIL,
    }
    wrong = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) is not v}
    assert wrong == {}


def test_a_disabled_api_fails_only_its_types(server: RunningGcp) -> None:
    server.fake.disabled.add((PROJECT, "compute"))
    try:
        specs = [CATALOG.specs[t] for t in ("gcp.compute.firewall", "gcp.dns.managed_zone")]
        inventory = collect("net", _settings(server), specs, sleep=lambda _: None)
    finally:
        server.fake.disabled.discard((PROJECT, "compute"))
    failures = {f.resource_type: f for f in inventory.failures}
    assert list(failures) == ["gcp.compute.firewall"]
    assert "compute.googleapis.com" in failures["gcp.compute.firewall"].message
    assert {r.type for r in inventory.resources} == {"gcp.dns.managed_zone"}
    results = evaluate(
        [CATALOG.policies["gcp.compute.firewall_ssh_from_internet"]],
        inventory.resources,
        failed_scopes={(f.resource_type, f.region): f.message for f in inventory.failures},
    )
    assert [r.status for r in results] == [Status.ERROR]


def test_without_the_monitoring_or_dns_api_nothing_can_exist(server: RunningGcp) -> None:
    """No alert policy can exist without Cloud Monitoring, no zone without Cloud DNS: the
    alert checks fail saying so, and the project has no zone to judge."""
    server.fake.disabled |= {(PROJECT, "monitoring"), (PROJECT, "dns")}
    try:
        specs = [
            CATALOG.specs[t] for t in ("gcp.monitoring.log_metric_alerts", "gcp.dns.managed_zone")
        ]
        inventory = collect("net", _settings(server), specs, sleep=lambda _: None)
    finally:
        server.fake.disabled -= {(PROJECT, "monitoring"), (PROJECT, "dns")}
    assert inventory.failures == []
    assert [r.type for r in inventory.resources] == ["gcp.monitoring.log_metric_alerts"]
    doc = inventory.resources[0].data
    assert doc["monitoring_disabled"] is True
    assert all(m["alert_policies"] == [] for m in doc["metrics"])
    results = evaluate(
        [CATALOG.policies["gcp.monitoring.log_alert_vpc_firewall_rule_changes"]],
        inventory.resources,
    )
    assert [r.status for r in results] == [Status.FAIL]
    assert (results[0].statement or {})["en"].endswith("; the Cloud Monitoring API is not enabled)")


def test_dns_api_disabled_still_judges_networks(server: RunningGcp, tmp_path: Path) -> None:
    server.fake.disabled.add((PROJECT, "dns"))
    try:
        inventory = collect(
            "net", _settings(server), [CATALOG.specs["gcp.compute.network"]], sleep=lambda _: None
        )
    finally:
        server.fake.disabled.discard((PROJECT, "dns"))
    assert inventory.failures == []
    prod = next(r for r in inventory.resources if r.name == "prod")
    assert prod.data["dns_policies"] is None
    results = evaluate([CATALOG.policies["gcp.compute.network_dns_logging"]], [prod])
    assert [r.status for r in results] == [Status.FAIL]
    assert "Cloud DNS API is not enabled" in (results[0].statement or {}).get("en", "")
