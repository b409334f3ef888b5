"""The generic AWS collector against moto, in-process and over HTTP."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.connectors.aws.organization import is_organization_type
from posture.connectors.inventory import GLOBAL
from posture.errors import CredentialError

from .helpers import count_calls, inject_error, open_ssh_group

REGIONS = ["us-east-1", "ap-northeast-1"]
#: Types whose APIs in-process moto lacks ("Not yet implemented"); the moto server fixture
#: serves them through posture.localapi.aws_extras.
MOTO_LACKS = {"aws.accessanalyzer.region", "aws.account.contact_information"}


def plant(endpoint: str | None = None) -> None:
    kw = {"endpoint_url": endpoint} if endpoint else {}
    s3 = boto3.client("s3", region_name="us-east-1", **kw)
    s3.create_bucket(Bucket="acme-open-bucket")
    s3.create_bucket(Bucket="acme-locked-bucket")
    s3.put_public_access_block(
        Bucket="acme-locked-bucket",
        PublicAccessBlockConfiguration={
            k: True
            for k in (
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            )
        },
    )
    s3.put_bucket_policy(
        Bucket="acme-locked-bucket",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::acme-locked-bucket/*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            }
        ),
    )
    iam = boto3.client("iam", region_name="us-east-1", **kw)
    iam.create_user(UserName="taro")
    iam.create_login_profile(UserName="taro", Password="Passw0rd!Passw0rd")
    ec2 = boto3.client("ec2", region_name="ap-northeast-1", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    open_ssh_group(ec2, "<script>alert(1)</script>", vpc_id=vpc)


def collect(
    catalog: Catalog,
    endpoint: str | None,
    *,
    types: list[str] | None = None,
    fault: tuple[str, str, str] | None = None,
):  # type: ignore[no-untyped-def]
    target = open_target("test", AwsSettings(endpoint_url=endpoint, regions=REGIONS))
    calls = count_calls(target)
    if fault:
        inject_error(target, *fault)
    # organisation-level types are read by organization connections only (test_organization)
    specs = [
        s
        for t, s in catalog.specs.items()
        if (types is None and not is_organization_type(s)) or (types is not None and t in types)
    ]
    inventory = AwsCollector(target, specs).collect()
    return inventory, calls


def by_uid(inventory):  # type: ignore[no-untyped-def]
    return {r.uid: r for r in inventory.resources}


@mock_aws
def test_in_process_collection_shapes(catalog: Catalog) -> None:
    plant()
    types = [
        t
        for t, spec in catalog.specs.items()
        if t not in MOTO_LACKS
        and not is_organization_type(spec)
        and spec.service not in ("lambda", "guardduty", "inspector2")
    ]  # in-process moto lacks Lambda ListFunctionUrlConfigs and GuardDuty/Inspector findings;
    # those types are collected against a moto server in their own tests
    inventory, calls = collect(catalog, None, types=types)
    assert inventory.failures == [], inventory.failures
    resources = by_uid(inventory)
    locked = resources["arn:aws:s3:::acme-locked-bucket"]
    assert locked.region == "us-east-1"
    assert locked.data["public_access_block"]["BlockPublicAcls"] is True
    statement = locked.data["policy"]["Statement"][0]
    assert statement["Principal"] == {"AWS": ["*"]} and statement["Action"] == ["s3:*"]
    assert resources["arn:aws:s3:::acme-open-bucket"].data["public_access_block"] is None
    account = next(r for r in inventory.resources if r.type == "aws.iam.account")
    assert account.data["password_policy"] is None  # NoSuchEntity is "not configured", not an error
    assert inventory.stats["aws.iam.account"].errors == 0
    row = next(
        r for r in inventory.resources if r.type == "aws.iam.credential_report" and r.name == "taro"
    )
    assert row.data["password_enabled"] is True and row.data["mfa_active"] is False
    sg = next(
        r
        for r in inventory.resources
        if r.type == "aws.ec2.security_group" and r.name.startswith("<script>")
    )
    assert sg.region == "ap-northeast-1"
    assert sg.data["IpPermissions"][0]["IpRanges"][0]["CidrIp"] == "0.0.0.0/0"
    vpcs = [r for r in inventory.resources if r.type == "aws.ec2.vpc"]
    assert vpcs and all(r.data["flow_logs"] == [] for r in vpcs)
    trails = next(r for r in inventory.resources if r.type == "aws.cloudtrail.account")
    assert trails.data == {"trails": []} and trails.region == GLOBAL
    # every API call (same operation, parameters and region) happened exactly once
    assert calls and max(calls.values()) == 1, [k for k, v in calls.items() if v > 1]
    stats = inventory.stats["aws.s3.bucket"]
    assert stats.resources == 2 and stats.calls >= 1 + 2 * 8


def test_collection_over_http_with_moto_server(catalog: Catalog, moto_url: str) -> None:
    plant(moto_url)
    inventory, calls = collect(catalog, moto_url)
    assert inventory.failures == []
    assert inventory.account == "123456789012"
    types = {r.type for r in inventory.resources}
    assert {
        "aws.s3.bucket",
        "aws.iam.user",
        "aws.ec2.security_group",
        "aws.s3.account_settings",
    } <= types
    settings = next(r for r in inventory.resources if r.type == "aws.s3.account_settings")
    assert settings.data == {}  # account-level block public access not configured
    assert max(calls.values()) == 1
    assert inventory.api_calls == sum(s.calls for s in inventory.stats.values())


@mock_aws
def test_access_denied_listing_fails_only_that_type(catalog: Catalog) -> None:
    plant()
    inventory, _ = collect(
        catalog,
        None,
        types=["aws.s3.bucket", "aws.iam.user"],
        fault=("s3", "ListBuckets", "AccessDenied"),
    )
    assert [f.resource_type for f in inventory.failures] == ["aws.s3.bucket"]
    failure = inventory.failures[0]
    assert failure.region == GLOBAL
    assert failure.permission == "s3:ListAllMyBuckets"
    assert "AccessDenied" in failure.message
    assert not any(r.type == "aws.s3.bucket" for r in inventory.resources)
    assert any(r.type == "aws.iam.user" for r in inventory.resources)
    assert inventory.stats["aws.s3.bucket"].errors >= 1


@mock_aws
def test_access_denied_detail_fails_only_that_detail(catalog: Catalog) -> None:
    plant()
    inventory, _ = collect(
        catalog,
        None,
        types=["aws.s3.bucket"],
        fault=("s3", "GetBucketPolicy", "AccessDenied"),
    )
    assert inventory.failures == []  # the scope was collected
    buckets = [r for r in inventory.resources if r.type == "aws.s3.bucket"]
    assert len(buckets) == 2
    for bucket in buckets:
        assert set(bucket.failed) == {"policy"}
        failure = bucket.failed["policy"]
        assert failure.call == failure.permission == "s3:GetBucketPolicy"
        assert failure.code == "AccessDenied"
        assert bucket.data["policy"] is None
        # the other details were read
        assert "public_access_block" in bucket.data and not bucket.failed.get("encryption")
    (summary,) = inventory.detail_failures
    assert summary.whole_scope and (summary.resources, summary.total) == (2, 2)
    assert summary.describe() == (
        "could not read policy of every aws.s3.bucket [global]: s3:GetBucketPolicy failed "
        "(AccessDenied): missing permission s3:GetBucketPolicy"
    )
    assert inventory.stats["aws.s3.bucket"].errors == 2
    assert inventory.stats_json()["detail_failures"][0]["whole_scope"] is True


@mock_aws
def test_throttling_beyond_retries_is_an_error(catalog: Catalog) -> None:
    plant()
    inventory, _ = collect(
        catalog,
        None,
        types=["aws.ec2.security_group"],
        fault=("ec2", "DescribeSecurityGroups", "Throttling"),
    )
    assert {f.region for f in inventory.failures} == set(REGIONS)
    assert all("throttled" in f.message for f in inventory.failures)
    assert inventory.stats["aws.ec2.security_group"].throttles >= 2


def test_bad_credentials_name_the_connection(moto_url: str) -> None:
    with pytest.raises(CredentialError, match="connection 'acme-prod'"):
        open_target("acme-prod", AwsSettings(profile="does-not-exist", endpoint_url=moto_url))


def test_assume_role_with_external_id(moto_url: str) -> None:
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_url)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "acme-7f3c"}},
            }
        ],
    }
    role = iam.create_role(RoleName="PostureAudit", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]
    target = open_target(
        "acme-prod",
        AwsSettings(
            role_arn=role["Arn"],
            external_id="acme-7f3c",
            endpoint_url=moto_url,
            regions=["us-east-1"],
        ),
    )
    credentials = target.session.get_credentials().get_frozen_credentials()
    assert credentials.access_key != "testing" and credentials.token
    assert target.account_id == "123456789012"


def test_aws_endpoint_url_variable_is_honoured(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    target = open_target("env", AwsSettings())
    assert target.endpoint_url == moto_url
    assert "ap-northeast-1" in target.regions and len(target.regions) > 10  # every enabled region


@mock_aws
def test_a_bug_in_one_type_does_not_stop_the_others(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posture.connectors.aws import transforms

    def broken(value: object) -> object:
        raise KeyError("LocationConstraint")

    monkeypatch.setitem(transforms.TRANSFORMS, "s3_region", broken)
    plant()
    inventory, _ = collect(catalog, None, types=["aws.s3.bucket", "aws.iam.user"])
    assert [(f.resource_type, f.code) for f in inventory.failures] == [
        ("aws.s3.bucket", "InternalError")
    ]
    assert "KeyError" in inventory.failures[0].message
    assert any(r.type == "aws.iam.user" for r in inventory.resources)


@mock_aws
def test_trails_homed_elsewhere_count_for_the_account(catalog: Catalog) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="acme-trail-logs")
    cloudtrail = boto3.client("cloudtrail", region_name="us-east-1")
    cloudtrail.create_trail(
        Name="org-wide", S3BucketName="acme-trail-logs", IsMultiRegionTrail=True
    )
    cloudtrail.start_logging(Name="org-wide")
    target = open_target(
        "t", AwsSettings(regions=["ap-northeast-1"])
    )  # the home region is not scanned
    specs = [
        catalog.specs[t]
        for t in ("aws.cloudtrail.trail", "aws.cloudtrail.region_trail", "aws.cloudtrail.account")
    ]
    calls = count_calls(target)
    inventory = AwsCollector(target, specs).collect()
    assert inventory.failures == []
    assert not [
        r for r in inventory.resources if r.type == "aws.cloudtrail.trail"
    ]  # not homed here
    (account,) = [r for r in inventory.resources if r.type == "aws.cloudtrail.account"]
    (trail,) = account.data["trails"]
    assert trail["HomeRegion"] == "us-east-1" and trail["status"]["IsLogging"] is True
    assert any("GetTrailStatus" in k and k.endswith("us-east-1") for k in calls)


@mock_aws
def test_trail_monitoring_links_metric_filters_to_alarms(catalog: Catalog) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="acme-trail-logs")
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="CloudTrail/acme")
    group_arn = logs.describe_log_groups()["logGroups"][0]["arn"]
    logs.put_metric_filter(
        logGroupName="CloudTrail/acme",
        filterName="unauthorized",
        filterPattern='{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
        metricTransformations=[
            {
                "metricName": "UnauthorizedCalls",
                "metricNamespace": "CISBenchmark",
                "metricValue": "1",
            }
        ],
    )
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="security-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="soc@example.com")
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_alarm(
        AlarmName="unauthorized-calls",
        MetricName="UnauthorizedCalls",
        Namespace="CISBenchmark",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=["arn:aws:sns:us-east-1:123456789012:security-alerts"],
    )
    cloudtrail = boto3.client("cloudtrail", region_name="us-east-1")
    cloudtrail.create_trail(
        Name="main",
        S3BucketName="acme-trail-logs",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/trail-to-logs",
    )
    cloudtrail.create_trail(Name="plain", S3BucketName="acme-trail-logs")
    inventory, _ = collect(
        catalog, None, types=["aws.cloudtrail.region_trail", "aws.cloudtrail.account"]
    )
    assert inventory.failures == []
    trails = {
        t["Name"]: t
        for t in inventory.resources[-1].data["trails"]
        if t["HomeRegion"] == "us-east-1"
    }
    (metric_filter,) = trails["main"]["metric_filters"]
    assert metric_filter["filterName"] == "unauthorized"
    assert metric_filter["alarms"][0]["AlarmActions"] == [
        "arn:aws:sns:us-east-1:123456789012:security-alerts"
    ]
    # the pattern is parsed and judged; the alarm's topic reaches a confirmed subscriber
    assert metric_filter["monitors"] == ["unauthorized_api_calls"]
    assert metric_filter["alarms"][0]["confirmed_subscriptions"] == 1
    assert metric_filter["alarms"][0]["sns_topics"] == [
        {"TopicArn": topic, "confirmed": 1, "pending": 0}
    ]
    assert "alarms" not in trails["main"]  # the raw alarm list is folded into the filters
    assert "subscriptions" not in trails["main"]  # so are the subscriptions (no addresses kept)
    assert trails["plain"]["metric_filters"] is None  # no log group: nothing to read, no call made
