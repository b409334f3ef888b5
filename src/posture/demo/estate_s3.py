"""S3: public buckets and their locked-down twins; account-level Block Public Access unset."""

from __future__ import annotations

from typing import Any

from posture.demo.common import (
    COMPANY,
    HOSTILE_MARKUP,
    PlantContext,
    policy_json,
    region_code,
    suffix,
    tags,
)
from posture.demo.manifest import Planted

BUCKET = "aws.s3.bucket"
ALL_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def create_bucket(s3: Any, name: str, region: str) -> None:
    if region == "us-east-1":  # the one region that rejects an explicit LocationConstraint
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def deny_insecure_transport(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def harden_bucket(s3: Any, bucket: str, *statements: dict[str, Any]) -> None:
    """All four BPA flags, a deny-HTTP policy (plus ``statements``), versioning, SSE."""
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=ALL_BLOCKED)
    s3.put_bucket_policy(
        Bucket=bucket, Policy=policy_json(*statements, deny_insecure_transport(bucket))
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )


HARDENED = "all four BPA flags, Deny aws:SecureTransport=false, versioning, SSE-KMS"


def plant_public_acl_pair(ctx: PlantContext, region: str, index: int) -> Planted:
    """A payroll export bucket readable by everyone through its ACL, and a vault twin."""
    s3 = ctx.client("s3", region)
    tail = f"{region_code(region)}{suffix(index, ctx.scale)}"
    bad, good = f"{COMPANY}-payroll-exports-{tail}", f"{COMPANY}-payroll-vault-{tail}"
    create_bucket(s3, bad, region)
    s3.put_bucket_acl(Bucket=bad, ACL="public-read")
    hostile = tags(Owner=HOSTILE_MARKUP, 部署="経理部", CostCenter="JP-FIN-001")
    s3.put_bucket_tagging(Bucket=bad, Tagging={"TagSet": hostile})
    create_bucket(s3, good, region)
    harden_bucket(s3, good)
    s3.put_bucket_tagging(Bucket=good, Tagging={"TagSet": tags(部署="経理部", Owner="finance")})
    planted = Planted()
    note = "public-read ACL, no BPA, no bucket policy, no versioning; hostile Owner tag"
    planted.add(BUCKET, bad, "bad", ["3.1.4", "3.1.1", "3.1.2"], note, region=region)
    planted.add(BUCKET, good, "good", ["3.1.4", "3.1.1", "2.21"], HARDENED, region=region)
    return planted


def _get_object(bucket: str, sid: str, principal: str | dict[str, str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def plant_public_policy_pair(ctx: PlantContext, region: str, index: int) -> Planted:
    """Web assets readable through ``Principal: "*"``, and a twin readable by one role only."""
    s3 = ctx.client("s3", region)
    tail = f"{region_code(region)}{suffix(index, ctx.scale)}"
    bad, good = f"{COMPANY}-web-assets-{tail}", f"{COMPANY}-web-assets-private-{tail}"
    create_bucket(s3, bad, region)
    s3.put_bucket_policy(Bucket=bad, Policy=policy_json(_get_object(bad, "PublicRead", "*")))
    create_bucket(s3, good, region)
    role = {"AWS": f"arn:aws:iam::{ctx.account_id}:role/{COMPANY}-app-server"}
    harden_bucket(s3, good, _get_object(good, "FrontendRead", role))
    planted = Planted()
    note = 'Allow s3:GetObject to Principal "*" without condition, no BPA, no versioning'
    planted.add(BUCKET, bad, "bad", ["3.1.4", "3.1.1", "2.21", "3.1.2"], note, region=region)
    note = "GetObject for one role only; " + HARDENED
    planted.add(BUCKET, good, "good", ["3.1.4", "3.1.1", "2.21"], note, region=region)
    return planted


def record_account_settings(ctx: PlantContext) -> Planted:
    """Account-level S3 Block Public Access is deliberately left unset (nothing to call)."""
    planted = Planted()
    note = "account-level Block Public Access never configured"
    planted.add("aws.s3.account_settings", ctx.account_id, "bad", ["3.1.4"], note)
    planted.gaps.append(
        "3.1.2 MFA Delete: moto drops MFADelete from PutBucketVersioning, so no bucket can "
        "pass it; only the failing side is planted."
    )
    return planted
