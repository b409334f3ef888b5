"""A scan whose only grant is the printed permission policy collects the whole demo estate.

moto evaluates IAM policies on requests signed with the keys of IAM users and assumed roles
once ``/moto-api/reset-auth`` lowers its count of unauthenticated requests to zero. The scan
signs in the way posture is deployed: base credentials assume a role, with an external id,
whose only policy is the document ``posture connection permissions aws --json`` prints. A
trail delivering to CloudWatch Logs is added for the test, so the monitoring calls (metric
filters, alarms) are made too, and the test asserts that moto evaluated every printed action.

moto 5.2.5 gets some of these requests wrong; ``moto_iam_fixes`` corrects exactly those and
every other action is evaluated by moto as AWS would:

- GET requests with an empty body to REST-JSON services (EFS ``DescribeFileSystems``, Macie
  ``GetMacieSession``, Security Hub ``DescribeHub``) fail with SignatureDoesNotMatch before
  any policy is evaluated: moto hashes its parsed request data (the request headers) as the
  payload instead of the empty body. Fix: sign an empty payload for a bodiless GET.
- S3 ``GetBucketEncryption`` and ``GetPublicAccessBlock`` are evaluated as ``s3:ListBucket``
  (moto's action table does not know the ``encryption`` and ``publicAccessBlock`` query
  keys), and S3 Control ``GetPublicAccessBlock`` as ``s3:GetPublicAccessBlock``, an action
  that does not exist. Fix: evaluate AWS's actions for those three requests.
- moto takes the action prefix from the signing name in the credential scope, so CloudWatch
  ``DescribeAlarms`` is evaluated as ``monitoring:DescribeAlarms``; AWS's prefix for
  CloudWatch is ``cloudwatch``. Fix: evaluate ``cloudwatch:`` for ``monitoring:``.
- moto evaluates API Gateway reads as ``apigateway:<Operation>`` (``apigateway:GetRestApis``);
  AWS authorises the API Gateway management API by HTTP method, ``apigateway:GET``. Fix:
  evaluate ``apigateway:GET`` for them.

One printed action is never evaluated, because no demo resource can exercise it:
``backup:GetBackupVaultAccessPolicy`` (moto answers it "Not yet implemented", so the demo
plants no backup vault; the collection tests answer it at the botocore seam instead).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from moto.iam import access_control

from posture.catalog import Catalog
from posture.cli import app
from posture.cli.runtime import run_app
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.connectors.inventory import Inventory
from posture.demo.estate_audit import trail_bucket_name
from tests.demo.demo_support import HOME, REGIONS, PlantedEstate, account_specs

BASE_USER = "posture-permission-check"
SCAN_ROLE = "posture-permission-scan"
EXTERNAL_ID = "posture-permission-test"
MONITORED_TRAIL = "posture-permission-monitored-trail"
#: printed actions the demo estate cannot exercise on moto (see the module docstring)
NOT_EXERCISED = {
    "backup:GetBackupVaultAccessPolicy",
    # moto keeps GuardDuty detectors but has no ListFindings/GetFindings, so the demo plants
    # no detector and the per-detector calls are never made
    "guardduty:GetDetector",
    "guardduty:ListFindings",
    "guardduty:GetFindings",
}


@dataclass
class Principal:
    access_key_id: str
    secret_access_key: str
    role_arn: str


@dataclass
class Evaluated:
    """Actions moto evaluated for the assumed scan role (not for the base user)."""

    actions: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _aws_action(moto_action: str, path: str) -> str:
    """The action AWS evaluates where moto 5.2.5 evaluates another one."""
    service, _, name = moto_action.partition(":")
    if service == "monitoring":
        return f"cloudwatch:{name}"
    if service == "apigateway" and name.startswith("Get"):
        return "apigateway:GET"
    parts = urlsplit(path)
    query = set(parse_qs(parts.query, keep_blank_values=True))
    if moto_action == "s3:ListBucket" and query == {"encryption"}:
        return "s3:GetEncryptionConfiguration"
    if moto_action == "s3:ListBucket" and query == {"publicAccessBlock"}:
        return "s3:GetBucketPublicAccessBlock"
    if moto_action == "s3:GetPublicAccessBlock" and parts.path.endswith(
        "/configuration/publicAccessBlock"
    ):
        return "s3:GetAccountPublicAccessBlock"  # S3 Control, account level
    return moto_action


@pytest.fixture
def moto_iam_fixes(monkeypatch: pytest.MonkeyPatch) -> Evaluated:
    """Correct moto's IAM evaluation where it differs from AWS; record what it evaluated."""
    request_base = access_control.IAMRequestBase
    original_request = request_base._create_aws_request
    original_check = request_base.check_action_permitted
    evaluated = Evaluated()

    def create_aws_request(self: Any) -> Any:
        request = original_request(self)
        if self._method == "GET" and not self._body:
            request.data = b""  # sign what was sent: no payload
        return request

    def check_action_permitted(self: Any, resource: str) -> None:
        self._action = _aws_action(self._action, self._path)
        if isinstance(self._access_key, access_control.AssumedRoleAccessKey):
            with evaluated.lock:
                evaluated.actions.add(self._action)
        original_check(self, resource)

    monkeypatch.setattr(request_base, "_create_aws_request", create_aws_request)
    monkeypatch.setattr(request_base, "check_action_permitted", check_action_permitted)
    return evaluated


@pytest.fixture(scope="module")
def printed_policy() -> dict[str, Any]:
    """The document ``posture connection permissions aws --json`` prints."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert run_app(app, ["connection", "permissions", "aws", "--json"]) == 0
    document: dict[str, Any] = json.loads(buffer.getvalue())
    return document


@contextmanager
def enforced_iam(endpoint_url: str) -> Iterator[None]:
    """moto evaluates IAM policies for every request while inside (for the whole process)."""

    def reset_auth(count: str) -> None:
        request = urllib.request.Request(
            f"{endpoint_url}/moto-api/reset-auth",
            data=count.encode(),
            headers={"Content-Type": "text/plain"},  # a form body would not reach moto
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    reset_auth("0")
    try:
        yield
    finally:
        reset_auth("inf")


@contextmanager
def scanning_principal(estate: PlantedEstate, policy: dict[str, Any]) -> Iterator[Principal]:
    """A user that may only assume a role whose only policy is ``policy``; removed after."""
    iam = estate.client("iam")
    user_arn = iam.create_user(UserName=BASE_USER)["User"]["Arn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
    role = iam.create_role(RoleName=SCAN_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    role_arn = role["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=SCAN_ROLE, PolicyName="PostureRead", PolicyDocument=json.dumps(policy)
    )
    assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }
    iam.put_user_policy(
        UserName=BASE_USER, PolicyName="AssumeScanRole", PolicyDocument=json.dumps(assume)
    )
    key = iam.create_access_key(UserName=BASE_USER)["AccessKey"]
    try:
        yield Principal(key["AccessKeyId"], key["SecretAccessKey"], role_arn)
    finally:  # leave the estate as the other demo tests expect it
        iam.delete_access_key(UserName=BASE_USER, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=BASE_USER, PolicyName="AssumeScanRole")
        iam.delete_user(UserName=BASE_USER)
        iam.delete_role_policy(RoleName=SCAN_ROLE, PolicyName="PostureRead")
        iam.delete_role(RoleName=SCAN_ROLE)


@contextmanager
def monitored_trail(estate: PlantedEstate) -> Iterator[None]:
    """A trail delivering to a log group with a metric filter and an alarm; removed after."""
    account = estate.manifest.account_id
    logs, cloudwatch = estate.client("logs"), estate.client("cloudwatch")
    logs.create_log_group(logGroupName=MONITORED_TRAIL)
    logs.put_metric_filter(
        logGroupName=MONITORED_TRAIL,
        filterName="root-usage",
        filterPattern='{ $.userIdentity.type = "Root" }',
        metricTransformations=[
            {"metricName": "RootUsage", "metricNamespace": "CISBenchmark", "metricValue": "1"}
        ],
    )
    cloudwatch.put_metric_alarm(
        AlarmName=MONITORED_TRAIL,
        MetricName="RootUsage",
        Namespace="CISBenchmark",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudtrail = estate.client("cloudtrail")
    cloudtrail.create_trail(
        Name=MONITORED_TRAIL,
        S3BucketName=trail_bucket_name(HOME),
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{HOME}:{account}:log-group:{MONITORED_TRAIL}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{account}:role/CloudTrailToCloudWatchLogs",
    )
    try:
        yield
    finally:
        cloudtrail.delete_trail(Name=MONITORED_TRAIL)
        cloudwatch.delete_alarms(AlarmNames=[MONITORED_TRAIL])
        logs.delete_log_group(logGroupName=MONITORED_TRAIL)


def scan_as(
    estate: PlantedEstate,
    catalog: Catalog,
    principal: Principal,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[str], Inventory]:
    """Discover the regions, then scan the demo regions as the role: (regions, inventory)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", principal.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", principal.secret_access_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", HOME)
    settings = AwsSettings(
        endpoint_url=estate.endpoint_url, role_arn=principal.role_arn, external_id=EXTERNAL_ID
    )
    with enforced_iam(estate.endpoint_url):
        target = open_target("least-privilege", settings)  # GetCallerIdentity, DescribeRegions
        discovered = list(target.regions)
        target.regions = list(REGIONS)  # every region moto knows would take minutes
        inventory = AwsCollector(target, account_specs(catalog)).collect()
    return discovered, inventory


def _failures(inventory: Inventory) -> list[str]:
    return [
        f"{f.resource_type} {f.region}: {f.code} needs {f.permission}: {f.message}"
        for f in inventory.failures
    ]


def test_printed_policy_is_enough_for_a_full_scan(
    estate: PlantedEstate,
    catalog: Catalog,
    printed_policy: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    moto_iam_fixes: Evaluated,
) -> None:
    policy = printed_policy
    with monitored_trail(estate), scanning_principal(estate, policy) as principal:
        discovered, inventory = scan_as(estate, catalog, principal, monkeypatch)
    assert set(REGIONS) <= set(discovered)
    assert _failures(inventory) == []
    assert {t: s.errors for t, s in inventory.stats.items() if s.errors} == {}
    trail = next(
        r
        for r in inventory.resources
        if r.type == "aws.cloudtrail.region_trail" and r.name == MONITORED_TRAIL
    )
    assert [a["AlarmName"] for a in trail.data["metric_filters"][0]["alarms"]] == [MONITORED_TRAIL]
    # every printed action was needed and evaluated: none is missing, none is extra, except
    # the APIs moto lacks, answered by posture.localapi.aws_extras, which evaluates no IAM,
    # and the actions the demo cannot exercise on moto (NOT_EXERCISED)
    served_outside_moto = {
        "access-analyzer:ListAnalyzers",
        "account:GetContactInformation",
        "lambda:ListFunctionUrlConfigs",
    }
    printed = set(policy["Statement"][0]["Action"])
    assert printed >= served_outside_moto | NOT_EXERCISED
    expected = printed - served_outside_moto - NOT_EXERCISED
    assert moto_iam_fixes.actions == expected


def test_access_denied_names_the_real_action(
    estate: PlantedEstate,
    catalog: Catalog,
    printed_policy: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    moto_iam_fixes: Evaluated,
) -> None:
    """S3 ListBuckets is authorised by s3:ListAllMyBuckets, and the error says so."""
    policy = copy.deepcopy(printed_policy)
    policy["Statement"][0]["Action"].remove("s3:ListAllMyBuckets")
    with scanning_principal(estate, policy) as principal:
        _, inventory = scan_as(estate, catalog, principal, monkeypatch)
    assert [(f.resource_type, f.code, f.permission) for f in inventory.failures] == [
        ("aws.s3.bucket", "AccessDenied", "s3:ListAllMyBuckets")
    ], _failures(inventory)
