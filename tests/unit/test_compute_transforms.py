"""The Lambda, EKS and ECR normalisations: names without values, policy condition keys, the
runtime and version calendars, and which registry scanning rule covers a repository."""

from __future__ import annotations

import json
from datetime import date

import pytest

from posture.connectors.aws.transforms import (
    EKS_VERSION_SUPPORT,
    ENRICHERS,
    LAMBDA_RUNTIME_DEPRECATION,
    TRANSFORMS,
    ecr_scan_coverage,
    eks_version_support,
    lambda_functions,
    lambda_runtime_support,
    resource_policy_document,
)


def test_lambda_functions_keep_variable_names_only() -> None:
    listed = [
        {
            "FunctionName": "billing",
            "Environment": {
                "Variables": {"DB_PASSWORD": "hunter2", "STAGE": "prod"},
                "Error": {"ErrorCode": "KMSAccessDenied", "Message": "no key"},
            },
        },
        {"FunctionName": "plain"},
        {"FunctionName": "empty", "Environment": {"Variables": {}}},
        "not a function",
    ]
    out = lambda_functions(listed)
    assert [f["FunctionName"] for f in out] == ["billing", "plain", "empty"]
    assert out[0]["environment_variable_names"] == ["DB_PASSWORD", "STAGE"]
    assert out[0]["Environment"] == {"Error": {"ErrorCode": "KMSAccessDenied", "Message": "no key"}}
    assert out[1]["environment_variable_names"] == [] and "Environment" not in out[1]
    assert out[2]["environment_variable_names"] == [] and out[2]["Environment"] == {}
    assert "hunter2" not in json.dumps(out)
    assert listed[0]["Environment"]["Variables"]["DB_PASSWORD"] == "hunter2"  # input untouched
    assert lambda_functions(None) == []
    assert TRANSFORMS["lambda_functions"] is lambda_functions


def test_resource_policy_condition_keys_are_lower_case_and_flat() -> None:
    text = json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "lambda:InvokeFunction",
                    "Condition": {
                        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b"},
                        "StringEquals": {"AWS:SourceAccount": "1", "aws:SourceArn": "x"},
                    },
                },
                {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}},
            ]
        }
    )
    doc = resource_policy_document(text)
    first, second = doc["Statement"]
    assert first["Principal"] == {"AWS": ["*"]} and first["Action"] == ["lambda:InvokeFunction"]
    assert first["ConditionKeys"] == ["aws:sourceaccount", "aws:sourcearn"]
    assert second["ConditionKeys"] == []
    assert resource_policy_document(None) is None
    assert resource_policy_document("not json") == {"_unparsed": "not json"}


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("python3.8", {"runtime": "python3.8", "deprecation_date": "2024-10-14"}),
        ("nodejs18.x", {"runtime": "nodejs18.x", "deprecation_date": "2025-09-01"}),
        ("provided.al2023", {"runtime": "provided.al2023", "deprecation_date": "2029-06-30"}),
        ("a-future-runtime", None),
        (None, None),
    ],
)
def test_lambda_runtime_support(runtime: str | None, expected: object) -> None:
    doc = {"FunctionName": "f", **({"Runtime": runtime} if runtime else {})}
    assert lambda_runtime_support(doc)["runtime_support"] == expected


def test_calendars_hold_valid_dates_in_order() -> None:
    for value in LAMBDA_RUNTIME_DEPRECATION.values():
        date.fromisoformat(value)
    for standard, extended in EKS_VERSION_SUPPORT.values():
        assert date.fromisoformat(standard) <= date.fromisoformat(extended)
    ordered = sorted(EKS_VERSION_SUPPORT, key=lambda v: tuple(int(p) for p in v.split(".")))
    ends = [EKS_VERSION_SUPPORT[v][1] for v in ordered]
    assert ends == sorted(ends)  # newer minor versions never lose support earlier


@pytest.mark.parametrize(
    ("version", "extended", "approximate"),
    [("1.28", "2025-11-26", False), ("1.34", "2027-12-02", False), ("1.19", "2023-06-04", True)],
)
def test_eks_version_support(version: str, extended: str, approximate: bool) -> None:
    doc = eks_version_support({"name": "c", "cluster": {"version": version}})
    support = doc["version_support"]
    assert support["extended_support_end"] == extended and support["approximate"] is approximate


@pytest.mark.parametrize("version", ["1.99", "", "latest"])
def test_unknown_eks_versions_are_not_judged(version: str) -> None:
    assert eks_version_support({"cluster": {"version": version}})["version_support"] is None
    assert eks_version_support({"name": "c"})["version_support"] is None


def _coverage(name: str, registry: object, scan_on_push: bool = False) -> object:
    doc = {
        "repositoryName": name,
        "imageScanningConfiguration": {"scanOnPush": scan_on_push},
        "registry_scanning": registry,
    }
    return ecr_scan_coverage(doc)["scan_coverage"]


def test_ecr_scan_coverage_follows_registry_rules() -> None:
    basic_prod = {
        "scanType": "BASIC",
        "rules": [
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "prod-*", "filterType": "WILDCARD"}],
            }
        ],
    }
    assert _coverage("prod-api", basic_prod) == {
        "scan_type": "BASIC",
        "frequency": "SCAN_ON_PUSH",
        "covered_by": "registry filter prod-*",
    }
    assert _coverage("dev-api", basic_prod)["frequency"] is None
    # only "*" is special, and the filter is anchored at both ends
    dotted = {
        "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "a.b"}]}]
    }
    assert _coverage("axb", dotted)["frequency"] is None
    assert _coverage("a.b", dotted)["frequency"] == "SCAN_ON_PUSH"
    assert _coverage("x-prod-api", basic_prod)["frequency"] is None
    # the repository's own setting counts with basic scanning only
    assert _coverage("dev-api", basic_prod, scan_on_push=True)["covered_by"] == "repository setting"
    enhanced = {
        "scanType": "ENHANCED",
        "rules": [
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*"}]},
            {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "web*"}]},
        ],
    }
    assert _coverage("web", enhanced)["frequency"] == "CONTINUOUS_SCAN"
    assert _coverage("api", enhanced)["frequency"] == "SCAN_ON_PUSH"
    only_web = {"scanType": "ENHANCED", "rules": [enhanced["rules"][1]]}
    assert _coverage("api", only_web, scan_on_push=True)["frequency"] is None
    manual = {
        "scanType": "BASIC",
        "rules": [{"scanFrequency": "MANUAL", "repositoryFilters": [{"filter": "*"}]}],
    }
    assert _coverage("api", manual)["frequency"] is None
    # never configured: basic scanning without rules
    assert _coverage("api", None) == {"scan_type": "BASIC", "frequency": None, "covered_by": None}
    assert {"lambda_runtime_support", "eks_version_support", "ecr_scan_coverage"} <= set(ENRICHERS)
