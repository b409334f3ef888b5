"""Audit trail: CloudTrail trails, AWS Config and Security Hub (each in one region only)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from posture.demo.common import COMPANY, PlantContext, policy_json, region_code
from posture.demo.estate_data import create_key
from posture.demo.estate_s3 import create_bucket, harden_bucket
from posture.demo.manifest import Planted, Verdict

BUCKET, TRAIL, TRAILS = "aws.s3.bucket", "aws.cloudtrail.trail", "aws.cloudtrail.account"
RECORDER, HUB = "aws.config.recorder_status", "aws.securityhub.hub"
HARDENED = ["3.1.4", "3.1.1", "2.21"]
ALL_EVENTS_AND_S3_DATA = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
    }
]


def trail_bucket_name(region: str) -> str:
    return f"{COMPANY}-cloudtrail-logs-{region_code(region)}"


def _delivery(service: str, bucket: str, *actions: str) -> dict[str, Any]:
    """Let one AWS service write objects (moto's PutBucketLogging wants this exact shape)."""
    return {
        "Sid": service.split(".")[0].title() + "Delivery",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": list(actions),
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def _plant_trail_buckets(ctx: PlantContext, planted: Planted) -> tuple[str, str]:
    """A hardened trail bucket with server access logging, and a legacy one with nothing."""
    region, s3 = ctx.primary, ctx.client("s3", ctx.primary)
    access_logs = f"{COMPANY}-s3-access-logs-{region_code(region)}"
    good, bad = trail_bucket_name(region), f"{COMPANY}-legacy-trail-logs-{region_code(region)}"
    for bucket in (access_logs, good, bad):
        create_bucket(s3, bucket, region)
    harden_bucket(
        s3, access_logs, _delivery("logging.s3.amazonaws.com", access_logs, "s3:PutObject")
    )
    trail_write = ("s3:PutObject", "s3:GetBucketAcl")
    harden_bucket(s3, good, _delivery("cloudtrail.amazonaws.com", good, *trail_write))
    logging = {"LoggingEnabled": {"TargetBucket": access_logs, "TargetPrefix": "cloudtrail/"}}
    s3.put_bucket_logging(Bucket=good, BucketLoggingStatus=logging)
    legacy = _delivery("cloudtrail.amazonaws.com", bad, *trail_write)
    s3.put_bucket_policy(Bucket=bad, Policy=policy_json(legacy))
    planted.add(BUCKET, access_logs, "good", HARDENED, "access log target", region=region)
    note = "trail bucket: hardened, server access logging on"
    planted.add(BUCKET, good, "good", ["4.4", *HARDENED], note, region=region)
    note = "trail bucket: no access logging, no BPA, no deny-HTTP"
    planted.add(BUCKET, bad, "bad", ["4.4", "3.1.4", "3.1.1"], note, region=region)
    return good, bad


def plant_cloudtrail(ctx: PlantContext) -> Planted:
    """A single-region legacy trail (bad) and a multi-region audit trail (good)."""
    region, planted = ctx.primary, Planted()
    cloudtrail = ctx.client("cloudtrail", region)
    good_bucket, bad_bucket = _plant_trail_buckets(ctx, planted)
    key = create_key(ctx.client("kms", region), f"{COMPANY}-cloudtrail", "CloudTrail", rotate=True)
    planted.add("aws.kms.key", key, "good", ["4.6"], region=region, name=f"{COMPANY}-cloudtrail")
    legacy, audit = f"{COMPANY}-legacy-{region}-trail", f"{COMPANY}-org-audit-trail"
    cloudtrail.create_trail(Name=legacy, S3BucketName=bad_bucket, IsMultiRegionTrail=False)
    cloudtrail.create_trail(
        Name=audit,
        S3BucketName=good_bucket,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=key,
    )
    cloudtrail.put_event_selectors(TrailName=audit, EventSelectors=ALL_EVENTS_AND_S3_DATA)
    for trail in (legacy, audit):
        cloudtrail.start_logging(Name=trail)
    note = "single-region, logging, no log file validation, no KMS key, bucket without access logs"
    planted.add(TRAIL, legacy, "bad", ["4.2", "4.4", "4.5"], note, region=region)
    note = "multi-region, logging, validation, KMS, all management and S3 data events, bucket logs"
    planted.add(TRAIL, audit, "good", ["4.2", "4.4", "4.5"], note, region=region)
    planted.add(TRAILS, ctx.account_id, "good", ["4.1", "4.8", "4.9"], f"via {audit}")
    return planted


def plant_config(ctx: PlantContext) -> Planted:
    """A recording AWS Config recorder in the first region only (after plant_cloudtrail)."""
    region = ctx.primary
    trust = {
        "Effect": "Allow",
        "Principal": {"Service": "config.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    role = ctx.client("iam", region).create_role(
        RoleName=f"{COMPANY}-aws-config", AssumeRolePolicyDocument=policy_json(trust)
    )["Role"]["Arn"]
    config = ctx.client("config", region)
    everything = {"allSupported": True, "includeGlobalResourceTypes": True}
    recorder = {"name": "default", "roleARN": role, "recordingGroup": everything}
    config.put_configuration_recorder(ConfigurationRecorder=recorder)
    channel = {"name": "default", "s3BucketName": trail_bucket_name(region)}
    config.put_delivery_channel(DeliveryChannel=channel)
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    planted = Planted()
    for other in ctx.regions:
        if other == region:
            planted.add(
                RECORDER,
                other,
                "good",
                ["4.3"],
                "recording all resource types",
                region=other,
                requires="settle_config_recorders",
            )
        else:
            planted.add(RECORDER, other, "bad", ["4.3"], "no recorder", region=other)
    return planted


def plant_security_hub(ctx: PlantContext) -> Planted:
    """Security Hub in the first region only."""
    ctx.client("securityhub", ctx.primary).enable_security_hub(EnableDefaultStandards=False)
    planted = Planted()
    for region in ctx.regions:
        if region == ctx.primary:
            planted.add(HUB, region, "good", ["5.16"], "enabled", region=region)
        else:
            planted.add(HUB, region, "bad", ["5.16"], "not enabled", region=region)
    return planted


ANALYZERS, CONTACT = "aws.accessanalyzer.region", "aws.account.contact_information"
#: Served by posture.localapi.aws_extras in front of moto, which lacks both APIs.
NOT_IMPLEMENTED_GAP = (
    "IAM Access Analyzer (2.18) and the account's contact information (2.2) need the local "
    "additions of posture.localapi.aws_extras in front of moto; this moto server has none, "
    "so neither was planted."
)


def plant_analyzer_and_contact(ctx: PlantContext) -> Planted:
    """An external access analyzer in the first region only (2.18), none elsewhere, and a
    complete primary contact (2.2)."""
    planted = Planted()
    try:
        ctx.client("accessanalyzer", ctx.primary).create_analyzer(
            analyzerName=f"{COMPANY}-external-access", type="ACCOUNT"
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Message") != "Not yet implemented":
            raise
        planted.gaps.append(NOT_IMPLEMENTED_GAP)
        return planted
    for region in ctx.regions:
        verdict: Verdict = "good" if region == ctx.primary else "bad"
        note = "active ACCOUNT analyzer" if verdict == "good" else "no analyzer"
        planted.add(ANALYZERS, region, verdict, ["2.18"], note, region=region)
    contact = {
        "FullName": f"{COMPANY} cloud operations",
        "CompanyName": "Acme Japan K.K.",
        "AddressLine1": "1-1 Marunouchi",
        "City": "Chiyoda-ku",
        "StateOrRegion": "Tokyo",
        "PostalCode": "100-0005",
        "CountryCode": "JP",
        "PhoneNumber": "+81-3-1234-5678",
    }
    ctx.client("account", ctx.primary).put_contact_information(ContactInformation=contact)
    planted.add(CONTACT, ctx.account_id, "good", ["2.2"], "every primary contact field set")
    return planted
