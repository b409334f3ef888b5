"""The planted ECR and EKS pairs through the real collector: each misconfigured resource fails
its policies, each hardened twin none (but what moto cannot represent); the manifest says why
no Lambda function is planted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.engine import evaluate
from posture.models import Resource, Status
from tests.demo.demo_support import REGIONS, PlantedEstate

TYPES = ("aws.ecr.repository", "aws.eks.cluster", "aws.lambda.function")
#: the EKS version checks depend on the calendar: judge as a scan on this day would
SCAN_TIME = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
ECR_POLICIES = {
    "aws.ecr.repository_scan_on_push",
    "aws.ecr.repository_tags_immutable",
    "aws.ecr.repository_policy_no_public_access",
    "aws.ecr.repository_kms_encryption",
    "aws.ecr.repository_lifecycle_policy",
}
ACCESS_ENTRIES = "aws.eks.cluster_access_entries_enabled"


@pytest.fixture(scope="module")
def collected(estate: PlantedEstate, catalog: Catalog) -> list[Resource]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        target = open_target(
            "demo", AwsSettings(endpoint_url=estate.endpoint_url, regions=list(REGIONS))
        )
        inventory = AwsCollector(target, [catalog.specs[t] for t in TYPES]).collect()
    assert inventory.failures == []  # no function planted, so no ListFunctionUrlConfigs call
    return inventory.resources


def _failing(catalog: Catalog, resources: list[Resource], rtype: str) -> dict[str, set[str]]:
    mine = {r.uid: r.name for r in resources if r.type == rtype}
    policies = [p for p in catalog.policies.values() if p.resource == rtype]
    failing: dict[str, set[str]] = {name: set() for name in mine.values()}
    for result in evaluate(policies, [r for r in resources if r.uid in mine], now=SCAN_TIME):
        assert result.status in (Status.PASS, Status.FAIL, Status.NOT_APPLICABLE), result
        if result.status is Status.FAIL:
            failing[mine[result.resource_uid]].add(result.policy_id)
    return failing


def _planted(estate: PlantedEstate, rtype: str) -> set[tuple[str, str, str | None]]:
    return {(r.identifier, r.expected, r.region) for r in estate.manifest.of_type(rtype)}


def test_planted_repositories_fail_and_twin_passes(
    estate: PlantedEstate, catalog: Catalog, collected: list[Resource]
) -> None:
    assert _planted(estate, "aws.ecr.repository") == {
        ("acme-jp/legacy-batch", "bad", REGIONS[0]),
        ("acme-jp-prod-api", "good", REGIONS[0]),
    }
    assert _failing(catalog, collected, "aws.ecr.repository") == {
        "acme-jp/legacy-batch": ECR_POLICIES,
        "acme-jp-prod-api": set(),
    }


def test_planted_clusters_fail_and_twin_passes(
    estate: PlantedEstate, catalog: Catalog, collected: list[Resource]
) -> None:
    assert _planted(estate, "aws.eks.cluster") == {
        ("acme-jp-legacy-eks", "bad", REGIONS[0]),
        ("acme-jp-prod-eks", "good", REGIONS[0]),
    }
    failing = _failing(catalog, collected, "aws.eks.cluster")
    every = {p.id for p in catalog.policies.values() if p.resource == "aws.eks.cluster"}
    assert failing["acme-jp-legacy-eks"] == every
    # moto drops accessConfig, so the twin reads as CONFIG_MAP (a gap of the manifest)
    assert failing["acme-jp-prod-eks"] == {ACCESS_ENTRIES}
    assert any("accessConfig" in gap for gap in estate.manifest.gaps)


def test_the_rotation_function_is_collected_and_the_manifest_says_why_no_pair(
    estate: PlantedEstate, collected: list[Resource]
) -> None:
    functions = [r for r in collected if r.type == "aws.lambda.function"]
    assert [f.name for f in functions] == ["acme-jp-rotate-db-password"]
    assert functions[0].data["function_urls"] == []  # answered, and no URL configured
    assert any("ListFunctionUrlConfigs" in gap for gap in estate.manifest.gaps)
