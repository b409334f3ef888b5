"""S3 and IAM as planted, read back with boto3."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from posture.demo import EstateClients
from posture.demo.common import HOSTILE_MARKUP
from tests.demo.demo_support import HOME, OTHER, PlantedEstate

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
FOUR_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _error(call: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return str(info.value.response["Error"]["Code"])


def _policy(s3: object, bucket: str) -> dict[str, object]:
    return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(("region", "code"), [(HOME, "apn1"), (OTHER, "use1")])
def test_public_buckets_and_their_twins(estate: PlantedEstate, region: str, code: str) -> None:
    s3 = estate.client("s3", region)
    exports, vault = f"acme-jp-payroll-exports-{code}", f"acme-jp-payroll-vault-{code}"
    assert (
        _error(s3.get_public_access_block, Bucket=exports) == "NoSuchPublicAccessBlockConfiguration"
    )
    grants = s3.get_bucket_acl(Bucket=exports)["Grants"]
    assert {"Type": "Group", "URI": ALL_USERS} in [g["Grantee"] for g in grants]
    assert _error(s3.get_bucket_policy, Bucket=exports) == "NoSuchBucketPolicy"
    assert "Status" not in s3.get_bucket_versioning(Bucket=exports)
    assert {"Key": "Owner", "Value": HOSTILE_MARKUP} in s3.get_bucket_tagging(Bucket=exports)[
        "TagSet"
    ]

    flags = s3.get_public_access_block(Bucket=vault)["PublicAccessBlockConfiguration"]
    assert all(flags[flag] is True for flag in FOUR_FLAGS)
    deny = [s for s in _policy(s3, vault)["Statement"] if s["Effect"] == "Deny"]  # type: ignore[attr-defined]
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert s3.get_bucket_versioning(Bucket=vault)["Status"] == "Enabled"

    public = _policy(s3, f"acme-jp-web-assets-{code}")["Statement"]
    assert public == [public[0]] and public[0]["Principal"] == "*"  # type: ignore[index]
    private = _policy(s3, f"acme-jp-web-assets-private-{code}")["Statement"]
    assert private[0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:role/acme-jp-app-server"}  # type: ignore[index]


def test_account_block_public_access_left_unset(estate: PlantedEstate) -> None:
    s3control = estate.client("s3control")
    code = _error(s3control.get_public_access_block, AccountId=estate.manifest.account_id)
    assert code == "NoSuchPublicAccessBlockConfiguration"


def test_s3control_hook_and_account_header_reach_moto(estate: PlantedEstate) -> None:
    other = "210987654321"  # a second account, so the planted one stays untouched
    s3control = EstateClients(estate.endpoint_url, other).client("s3control", HOME)
    config = dict.fromkeys(FOUR_FLAGS, True)
    s3control.put_public_access_block(AccountId=other, PublicAccessBlockConfiguration=config)
    got = s3control.get_public_access_block(AccountId=other)["PublicAccessBlockConfiguration"]
    assert got == config
    code = _error(estate.client("s3control").get_public_access_block, AccountId="123456789012")
    assert code == "NoSuchPublicAccessBlockConfiguration"


def test_risky_users_and_clean_twins(estate: PlantedEstate) -> None:
    iam = estate.client("iam")
    assert _error(iam.list_mfa_devices, UserName="nobody") == "NoSuchEntity"
    assert iam.get_login_profile(UserName="tanaka.hiroshi")["LoginProfile"]
    assert iam.list_mfa_devices(UserName="tanaka.hiroshi")["MFADevices"] == []
    tags = iam.list_user_tags(UserName="tanaka.hiroshi")["Tags"]
    assert {"Key": "Department", "Value": HOSTILE_MARKUP} in tags
    admin = iam.list_attached_user_policies(UserName="sato.yuki")["AttachedPolicies"]
    assert [p["PolicyName"] for p in admin] == ["acme-jp-breakglass-admin"]
    document = iam.get_policy_version(PolicyArn=admin[0]["PolicyArn"], VersionId="v1")
    statement = document["PolicyVersion"]["Document"]["Statement"][0]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", "*", "*")
    keys = iam.list_access_keys(UserName="batch-etl-svc")["AccessKeyMetadata"]
    assert [k["Status"] for k in keys] == ["Active", "Active"]
    assert iam.list_user_policies(UserName="batch-etl-svc")["PolicyNames"] == ["etl-inline"]

    assert iam.list_attached_user_policies(UserName="yamada.taro")["AttachedPolicies"] == []
    assert iam.list_user_policies(UserName="yamada.taro")["PolicyNames"] == []
    groups = iam.list_groups_for_user(UserName="yamada.taro")["Groups"]
    assert [g["GroupName"] for g in groups] == ["acme-jp-developers"]
    assert len(iam.list_mfa_devices(UserName="yamada.taro")["MFADevices"]) == 1


def test_account_settings(estate: PlantedEstate) -> None:
    iam = estate.client("iam")
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] < 14 and policy["PasswordReusePrevention"] < 24
    support = "arn:aws:iam::aws:policy/AWSSupportAccess"
    roles = iam.list_entities_for_policy(PolicyArn=support)["PolicyRoles"]
    assert [r["RoleName"] for r in roles] == ["acme-jp-aws-support"]
    assert not [gap for gap in estate.manifest.gaps if "AWSSupportAccess" in gap]


def _age(text: str) -> timedelta:
    return datetime.now(UTC) - datetime.fromisoformat(text)


def test_backdated_credentials_in_the_credential_report(estate: PlantedEstate) -> None:
    report = estate.credential_report()
    service, console = report["batch-etl-svc"], report["tanaka.hiroshi"]
    for n in ("1", "2"):
        assert service[f"access_key_{n}_active"] == "true"
        assert _age(service[f"access_key_{n}_last_rotated"]) > timedelta(days=90)
        assert _age(service[f"access_key_{n}_last_used_date"]) > timedelta(days=45)
    assert console["password_enabled"] == "true" and console["mfa_active"] == "false"
    assert _age(console["password_last_used"]) > timedelta(days=45)

    good = report["yamada.taro"]
    assert good["mfa_active"] == "true" and good["access_key_1_active"] == "true"
    assert _age(good["access_key_1_last_rotated"]) < timedelta(days=1)
    assert _age(report["batch-etl-svc-v2"]["access_key_1_last_rotated"]) < timedelta(days=1)


def test_backdated_keys_through_the_iam_api(estate: PlantedEstate) -> None:
    iam = estate.client("iam")
    key = iam.list_access_keys(UserName="batch-etl-svc")["AccessKeyMetadata"][0]
    assert datetime.now(UTC) - key["CreateDate"] > timedelta(days=90)
    last_used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert datetime.now(UTC) - last_used["LastUsedDate"] > timedelta(days=45)
    user = iam.get_user(UserName="tanaka.hiroshi")["User"]
    assert datetime.now(UTC) - user["PasswordLastUsed"] > timedelta(days=45)
