"""Lambda functions, EKS clusters and ECR repositories collected from moto and judged by the
built-in policies: the misconfigured resource fails, its hardened twin passes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.engine import evaluate
from posture.models import Resource, Status

from .compute_stubs import (
    SECRET_VALUE,
    plant_clusters,
    plant_functions,
    plant_repositories,
    stub_function_url_listing,
)
from .helpers import count_calls

REGION = "ap-northeast-1"
TYPES = ("aws.lambda.function", "aws.eks.cluster", "aws.ecr.repository")
#: the evaluation clock: a scan on this day (runtime and version dates are judged against it)
SCAN_TIME = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _collect(catalog: Catalog, *, stub: bool = True):  # type: ignore[no-untyped-def]
    target = open_target("test", AwsSettings(regions=[REGION]))
    if stub:
        stub_function_url_listing(target)
    calls = count_calls(target)
    specs = [catalog.specs[t] for t in TYPES]
    return AwsCollector(target, specs).collect(), calls


def _by_name(resources: list[Resource], rtype: str) -> dict[str, Resource]:
    return {r.name: r for r in resources if r.type == rtype}


def _failing(catalog: Catalog, resources: list[Resource]) -> dict[str, set[str]]:
    policies = [p for p in catalog.policies.values() if p.resource in TYPES]
    out: dict[str, set[str]] = {r.name: set() for r in resources}
    for result in evaluate(policies, resources, now=SCAN_TIME):
        assert result.status is not Status.ERROR, result
        if result.status is Status.FAIL:
            out[next(r.name for r in resources if r.uid == result.resource_uid)].add(
                result.policy_id
            )
    return out


@mock_aws
def test_lambda_documents_keep_names_never_values(catalog: Catalog) -> None:
    plant_functions(REGION)
    inventory, calls = _collect(catalog)
    assert inventory.failures == [], inventory.failures
    functions = _by_name(inventory.resources, "aws.lambda.function")
    bad, good = functions["legacy-export"], functions["orders-api"]
    assert bad.uid == f"arn:aws:lambda:{REGION}:123456789012:function:legacy-export"
    assert bad.data["environment_variable_names"] == ["DB_PASSWORD", "LOG_LEVEL"]
    assert "Variables" not in (bad.data.get("Environment") or {})
    assert SECRET_VALUE not in json.dumps([r.data for r in inventory.resources])
    assert bad.data["runtime_support"] == {"runtime": "python3.8", "deprecation_date": "2024-10-14"}
    (statement,) = bad.data["policy"]["Statement"]
    assert statement["Principal"] == {"AWS": ["*"]} and statement["ConditionKeys"] == []
    (granted,) = good.data["policy"]["Statement"]
    assert granted["ConditionKeys"] == ["aws:sourceaccount", "aws:sourcearn"]
    assert [u["AuthType"] for u in bad.data["function_urls"]] == ["NONE"]
    assert [u["AuthType"] for u in good.data["function_urls"]] == ["AWS_IAM"]
    assert max(calls.values()) == 1


@mock_aws
def test_lambda_policies_fail_the_bad_function_only(catalog: Catalog) -> None:
    plant_functions(REGION)
    inventory, _ = _collect(catalog)
    failing = _failing(catalog, inventory.resources)
    assert failing["legacy-export"] >= {
        "aws.lambda.function_policy_no_public_access",
        "aws.lambda.function_url_auth_required",
        "aws.lambda.function_runtime_supported",
        "aws.lambda.function_env_no_secret_names",
        "aws.lambda.function_in_vpc",
        "aws.lambda.function_tracing_enabled",
        "aws.lambda.function_dead_letter_configured",
    }
    # moto answers GetFunctionCodeSigningConfig without an ARN (no code signing for either) and
    # drops DeadLetterConfig from CreateFunction, so the twin fails those two as well
    assert failing["orders-api"] == {
        "aws.lambda.function_code_signing_enabled",
        "aws.lambda.function_dead_letter_configured",
    }


@mock_aws
def test_function_url_listing_missing_from_moto_fails_the_type_clearly(catalog: Catalog) -> None:
    """Without the stand-in, moto's 404 fails the scope and names the permission; no false pass."""
    plant_functions(REGION)
    inventory, _ = _collect(catalog, stub=False)
    (failure,) = [f for f in inventory.failures if f.resource_type == "aws.lambda.function"]
    assert failure.permission == "lambda:ListFunctionUrlConfigs"
    assert not any(r.type == "aws.lambda.function" for r in inventory.resources)


@mock_aws
def test_eks_clusters_from_names_to_findings(catalog: Catalog) -> None:
    plant_clusters(REGION)
    inventory, _ = _collect(catalog)
    assert inventory.failures == []
    clusters = _by_name(inventory.resources, "aws.eks.cluster")
    legacy, prod = clusters["legacy"], clusters["prod"]
    assert legacy.uid == f"arn:aws:eks:{REGION}:123456789012:cluster/legacy"
    assert legacy.data["version_support"]["extended_support_end"] == "2025-11-26"
    failing = _failing(catalog, inventory.resources)
    assert failing["legacy"] == {
        "aws.eks.cluster_endpoint_not_open_to_internet",
        "aws.eks.cluster_private_endpoint_enabled",
        "aws.eks.cluster_public_endpoint_disabled",
        "aws.eks.cluster_control_plane_logging_enabled",
        "aws.eks.cluster_secrets_encrypted",
        "aws.eks.cluster_version_supported",
        "aws.eks.cluster_version_standard_support",
        "aws.eks.cluster_access_entries_enabled",
    }
    # moto drops accessConfig from DescribeCluster, so even the twin reads as CONFIG_MAP
    assert prod.data["cluster"].get("accessConfig") is None
    assert failing["prod"] == {"aws.eks.cluster_access_entries_enabled"}


@mock_aws
def test_ecr_repositories_and_registry_scanning(catalog: Catalog) -> None:
    plant_repositories(REGION)
    inventory, calls = _collect(catalog)
    assert inventory.failures == []
    repositories = _by_name(inventory.resources, "aws.ecr.repository")
    web, api = repositories["web"], repositories["prod-api"]
    assert web.data["scan_coverage"] == {
        "scan_type": "BASIC",
        "frequency": None,
        "covered_by": None,
    }
    assert api.data["scan_coverage"]["covered_by"] == "registry filter prod-*"
    assert api.data["lifecycle_policy"] and web.data["lifecycle_policy"] is None
    assert web.data["policy"]["Statement"][0]["Principal"] == {"AWS": ["*"]}
    # the registry's scanning configuration is read once for both repositories
    scanning = [k for k in calls if "GetRegistryScanningConfiguration" in k]
    assert len(scanning) == 1 and calls[scanning[0]] == 1
    failing = _failing(catalog, inventory.resources)
    assert failing["web"] == {
        "aws.ecr.repository_scan_on_push",
        "aws.ecr.repository_tags_immutable",
        "aws.ecr.repository_policy_no_public_access",
        "aws.ecr.repository_kms_encryption",
        "aws.ecr.repository_lifecycle_policy",
    }
    assert failing["prod-api"] == set()


@pytest.mark.parametrize("denied", ["GetRepositoryPolicy", "GetRegistryScanningConfiguration"])
@mock_aws
def test_denied_ecr_detail_fails_the_scope(catalog: Catalog, denied: str) -> None:
    from .helpers import inject_error

    plant_repositories(REGION)
    target = open_target("test", AwsSettings(regions=[REGION]))
    inject_error(target, "ecr", denied, "AccessDeniedException")
    inventory = AwsCollector(target, [catalog.specs["aws.ecr.repository"]]).collect()
    (failure,) = inventory.failures
    assert failure.permission == f"ecr:{denied}"
    assert not any(r.type == "aws.ecr.repository" for r in inventory.resources)


@mock_aws
def test_container_image_function_skips_code_signing(catalog: Catalog) -> None:
    plant_functions(REGION)
    role = "arn:aws:iam::123456789012:role/compute-test-lambda"
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="ml-infer",
        Role=role,
        PackageType="Image",
        Code={"ImageUri": f"123456789012.dkr.ecr.{REGION}.amazonaws.com/ml:1"},
    )
    inventory, calls = _collect(catalog)
    image = _by_name(inventory.resources, "aws.lambda.function")["ml-infer"]
    assert image.data["code_signing"] is None and image.data["runtime_support"] is None
    signing = [k for k in calls if "GetFunctionCodeSigningConfig" in k]
    assert len(signing) == 2 and not any("ml-infer" in k for k in signing)
    failing = _failing(catalog, inventory.resources)
    assert "aws.lambda.function_code_signing_enabled" not in failing["ml-infer"]
    assert "aws.lambda.function_runtime_supported" not in failing["ml-infer"]
