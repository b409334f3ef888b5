"""The AWS fixes with Python handlers (password policy, load balancer attributes, the bucket
policy's TLS statement) and the manual ones, on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture.store import Store

from .conftest import REGION, Repair

PASSWORD_POLICIES = [
    f"aws.iam.password_policy_{name}"
    for name in (
        "min_length",
        "require_lowercase",
        "require_numbers",
        "require_symbols",
        "require_uppercase",
        "reuse_prevention",
    )
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: the runs' storage is covered on PostgreSQL by the engine's tests."""
    st = Store(f"sqlite:///{tmp_path / 'posture.db'}")
    yield st
    st.dispose()


def _password_policy(repair: Repair) -> Any:
    iam = repair.client("iam")
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except iam.exceptions.NoSuchEntityException:
        return None


def _cycle(repair: Repair, policy: str, uid_end: str) -> tuple[Any, Any]:
    """Scan, plan, approve, apply: the run's before and after states (asserting it verified)."""
    repair.scan([policy])
    run = repair.plan(policy, uid_end)
    repair.approve(run)
    outcome = repair.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert repair.finding(policy, uid_end).state == "resolved"
    return run, outcome.run


def test_password_policy_raises_weak_values_keeps_the_rest_and_restores_them(
    repair: Repair,
) -> None:
    repair.setup(PASSWORD_POLICIES)
    weak = {
        "MinimumPasswordLength": 16,
        "RequireNumbers": True,
        "MaxPasswordAge": 90,
        "PasswordReusePrevention": 5,
        "AllowUsersToChangePassword": False,
    }
    repair.client("iam").update_account_password_policy(**weak)
    before_live = _password_policy(repair)
    repair.scan(PASSWORD_POLICIES)
    run = repair.plan("aws.iam.password_policy_reuse_prevention", "")
    assert run.fix_id == "aws.iam.password_policy"
    assert run.after["MinimumPasswordLength"] == 16, "a stricter value is never lowered"
    assert run.after["PasswordReusePrevention"] == 24
    assert run.after["MaxPasswordAge"] == 90 and run.after["AllowUsersToChangePassword"] is False
    assert all(run.after[k] for k in ("RequireSymbols", "RequireUppercaseCharacters"))
    repair.approve(run)
    outcome = repair.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    live = _password_policy(repair)
    assert live["PasswordReusePrevention"] == 24 and live["RequireLowercaseCharacters"] is True
    assert live["MinimumPasswordLength"] == 16

    assert repair.rollback(outcome.run).run.state == "rolled_back"
    assert _password_policy(repair) == before_live


def test_password_policy_created_where_there_was_none_is_deleted_on_rollback(
    repair: Repair,
) -> None:
    repair.setup(["aws.iam.password_policy_min_length"])
    run, done = _cycle(repair, "aws.iam.password_policy_min_length", "")
    assert run.before is None
    assert _password_policy(repair)["PasswordReusePrevention"] == 24
    assert repair.rollback(done).run.state == "rolled_back"
    assert _password_policy(repair) is None


def _load_balancer(repair: Repair) -> str:
    ec2 = repair.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    answer = repair.client("elbv2").create_load_balancer(
        Name="shop-alb", Subnets=subnets, Type="application"
    )
    arn: str = answer["LoadBalancers"][0]["LoadBalancerArn"]
    return arn


def _attribute(repair: Repair, arn: str, key: str) -> str | None:
    answer = repair.client("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn)
    return next((a["Value"] for a in answer["Attributes"] if a["Key"] == key), None)


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        ("aws.elbv2.deletion_protection_enabled", "deletion_protection.enabled"),
    ],
)
def test_load_balancer_attribute_set_and_restored(repair: Repair, policy: str, key: str) -> None:
    repair.setup([policy])
    arn = _load_balancer(repair)
    assert _attribute(repair, arn, key) == "false"
    run, done = _cycle(repair, policy, arn[-20:])
    assert (run.before, run.after) == ("false", "true")
    assert _attribute(repair, arn, key) == "true"
    assert repair.rollback(done).run.state == "rolled_back"
    assert _attribute(repair, arn, key) == "false"


TLS = "aws.s3.bucket_secure_transport_required"


def _bucket_policy(repair: Repair, bucket: str) -> Any:
    s3 = repair.client("s3")
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except s3.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchBucketPolicy"
        return None


def test_tls_statement_is_added_beside_the_existing_policy_and_removed_exactly(
    repair: Repair,
) -> None:
    repair.setup([TLS])
    s3 = repair.client("s3")
    s3.create_bucket(Bucket="acme-shared")
    existing = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PartnerRead",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acme-shared/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket="acme-shared", Policy=json.dumps(existing))
    before = _bucket_policy(repair, "acme-shared")
    run, done = _cycle(repair, TLS, ":::acme-shared")
    sids = [s["Sid"] for s in _bucket_policy(repair, "acme-shared")["Statement"]]
    assert sids == ["PartnerRead", "PostureDenyInsecureTransport"]
    assert run.after["Statement"][0] == before["Statement"][0]
    assert repair.rollback(done).run.state == "rolled_back"
    assert _bucket_policy(repair, "acme-shared") == before


def test_tls_policy_created_on_a_bucket_without_one_is_deleted_on_rollback(
    repair: Repair,
) -> None:
    repair.setup([TLS])
    repair.client("s3").create_bucket(Bucket="acme-bare")
    run, done = _cycle(repair, TLS, ":::acme-bare")
    assert run.before is None
    assert repair.rollback(done).run.state == "rolled_back"
    assert _bucket_policy(repair, "acme-bare") is None


def test_manual_fixes_plan_the_recommendation_and_change_nothing(repair: Repair) -> None:
    policy = "aws.iam.root_mfa_enabled"
    repair.setup([policy])
    repair.scan([policy])
    finding = repair.finding(policy, "")
    outcome = repair.plan_all(findings=[finding.id])
    assert outcome.runs == [] and outcome.refused == []
    (step,) = outcome.manual
    assert step.fix_id == "aws.iam.root_mfa"
    assert step.recommendation["ja"] and step.recommendation["en"]
    assert repair.finding(policy, "").state == "open"
