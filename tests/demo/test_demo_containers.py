"""The planted ECR pair through the real collector: the legacy repository fails every ECR
policy, the hardened twin none; the manifest says why Lambda and EKS are not planted."""

from __future__ import annotations

import pytest

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.engine import evaluate
from posture.models import Status
from tests.demo.demo_support import REGIONS, PlantedEstate

ECR_POLICIES = {
    "aws.ecr.repository_scan_on_push",
    "aws.ecr.repository_tags_immutable",
    "aws.ecr.repository_policy_no_public_access",
    "aws.ecr.repository_kms_encryption",
    "aws.ecr.repository_lifecycle_policy",
}


def test_planted_repositories_fail_and_twin_passes(estate: PlantedEstate, catalog: Catalog) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        target = open_target(
            "demo", AwsSettings(endpoint_url=estate.endpoint_url, regions=list(REGIONS))
        )
        specs = [catalog.specs[t] for t in ("aws.ecr.repository", "aws.lambda.function")]
        inventory = AwsCollector(target, specs).collect()
    assert inventory.failures == []  # no function planted, so no ListFunctionUrlConfigs call
    planted = estate.manifest.of_type("aws.ecr.repository")
    assert {(r.identifier, r.expected) for r in planted} == {
        ("acme-jp/legacy-batch", "bad"),
        ("acme-jp-prod-api", "good"),
    }
    repositories = {r.name: r for r in inventory.resources if r.type == "aws.ecr.repository"}
    assert set(repositories) == {r.identifier for r in planted}
    assert {r.region for r in repositories.values()} == {REGIONS[0]}
    policies = [p for p in catalog.policies.values() if p.id in ECR_POLICIES]
    names = {r.uid: name for name, r in repositories.items()}
    failing: dict[str, set[str]] = {name: set() for name in repositories}
    for result in evaluate(policies, list(repositories.values())):
        assert result.status in (Status.PASS, Status.FAIL), result
        if result.status is Status.FAIL:
            failing[names[result.resource_uid]].add(result.policy_id)
    assert failing == {"acme-jp/legacy-batch": ECR_POLICIES, "acme-jp-prod-api": set()}
    assert any("ListFunctionUrlConfigs" in gap for gap in estate.manifest.gaps)
