"""Security Command Center findings collected with the real google-api-python-client from
the local Google Cloud server: every source of the project, paged, active critical and high
ones only (the filter is Google's), each naming its resource; a project whose organisation
has not activated Security Command Center fails only this type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from posture.catalog import Catalog, load_catalog
from posture.connectors.gcp.entry import collect
from posture.engine.conditions import EvalContext
from posture.engine.evaluate import judge
from posture.engine.testing import DEFAULT_TEST_NOW
from posture.localapi.gcp import FakeGcp, GcpProject, RunningGcp, gcp_server

PROJECT, NUMBER = "acme-sec", "530000000001"
TYPE = "gcp.securitycenter.finding"


def result(n: int, category: str, severity: str, finding_class: str, **extra: Any) -> dict[str, Any]:  # fmt: skip
    finding = {
        "name": f"projects/{NUMBER}/sources/1122/findings/f{n:03d}",
        "parent": f"projects/{NUMBER}/sources/1122",
        "resourceName": f"//compute.googleapis.com/projects/{PROJECT}/zones/asia-northeast1-a/instances/{n}",
        "state": "ACTIVE",
        "category": category,
        "severity": severity,
        "findingClass": finding_class,
        "eventTime": "2026-11-29T03:00:00Z",
        "createTime": "2026-11-29T03:00:05Z",
        **extra,
    }
    resource = {"name": finding["resourceName"], "displayName": f"vm-{n}",
                "type": "google.compute.Instance", "projectDisplayName": PROJECT}  # fmt: skip
    return {"finding": finding, "resource": resource}


RESULTS = [
    result(1, "Execution: Cryptocurrency Mining Hash Match", "CRITICAL", "THREAT"),
    result(
        2,
        "OS_VULNERABILITY",
        "HIGH",
        "VULNERABILITY",
        vulnerability={"cve": {"id": "CVE-2024-6387"}},
    ),
    result(3, "PUBLIC_IP_ADDRESS", "HIGH", "MISCONFIGURATION"),
]


def _populate(fake: FakeGcp) -> None:
    for project_id, number in ((PROJECT, NUMBER), ("acme-nosec", "530000000002")):
        fake.add_project(GcpProject(project_id, number, "organizations/123456789012"))
    fake.projects[PROJECT].collections[f"v1/projects/{PROJECT}/sources/-/findings"] = RESULTS
    fake.denied["v1/projects/acme-nosec/sources"] = "securitycenter.findings.list"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGcp]:
    with gcp_server(tmp_path_factory.mktemp("scc"), _populate) as running:
        yield running


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _collect(server: RunningGcp, catalog: Catalog, projects: list[str]) -> Any:
    settings = {"projects": projects, "key_file": str(server.key_file), "root_url": server.url,
                "ca_bundle": str(server.ca_bundle)}  # fmt: skip
    return collect("acme-gcp", settings, [catalog.specs[TYPE]], sleep=lambda _s: None)


def test_findings_are_collected_paged_and_flattened(server: RunningGcp, catalog: Catalog) -> None:
    inventory = _collect(server, catalog, [PROJECT])
    assert inventory.failures == []
    docs = {r.uid: r.data for r in inventory.resources if r.type == TYPE}
    assert len(docs) == 3  # two pages of two
    miner = docs[f"projects/{NUMBER}/sources/1122/findings/f001"]
    assert miner["severity"] == "CRITICAL" and miner["resource_display_name"] == "vm-1"
    assert docs[f"projects/{NUMBER}/sources/1122/findings/f002"]["cve"] == "CVE-2024-6387"
    asked = [parse_qs(urlsplit(u).query) for u in server.fake.requests if "/findings" in u]
    assert asked and all('state="ACTIVE"' in q["filter"][0] for q in asked)
    policies = [p for p in catalog.policies.values() if p.resource == TYPE]
    verdicts = {
        (p.id, r.data["category"]): judge(p, r.data, EvalContext(now=DEFAULT_TEST_NOW), {}).status.value
        for p in policies
        for r in inventory.resources
    }  # fmt: skip
    crit, high = (
        "gcp.securitycenter.no_active_critical_findings",
        "gcp.securitycenter.no_active_high_threats",
    )
    assert verdicts[(crit, "Execution: Cryptocurrency Mining Hash Match")] == "fail"
    assert verdicts[(high, "OS_VULNERABILITY")] == "fail"
    assert verdicts[(high, "PUBLIC_IP_ADDRESS")] == "not_applicable"  # left to posture's own


def test_a_project_without_access_fails_only_there(server: RunningGcp, catalog: Catalog) -> None:
    inventory = _collect(server, catalog, [PROJECT, "acme-nosec"])
    (failure,) = inventory.failures
    assert failure.resource_type == TYPE and "acme-nosec" in failure.region
    assert "securitycenter.findings.list" in failure.message
    assert len([r for r in inventory.resources if r.type == TYPE]) == 3
