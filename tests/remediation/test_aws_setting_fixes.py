"""The declarative AWS fixes on moto, one full cycle each.

For every fix: a resource planted in its failing state is scanned; the plan shows the live
before-state and the after-state and changes nothing; applying (approved by a second person)
makes the policy pass on the re-scan; rolling back puts the provider's own read of the
setting back to the before-state exactly. Aborting on drift is shown for some of them (the
engine's check is the same for every fix).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from posture.store import Store

from .conftest import Repair

ACCOUNT = "123456789012"
# declarative AWS fixes whose tests live in a module of their own
TESTED_ELSEWHERE = {
    "aws.s3.block_public_access",
    "aws.ec2.ebs_default_encryption",
    "aws.ec2.imdsv2_required",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: what is under test is each fix's calls; the run's storage is the same
    for every fix and runs on PostgreSQL in test_s3_block_public_access and the engine tests."""
    st = Store(f"sqlite:///{tmp_path / 'posture.db'}")
    yield st
    st.dispose()


@dataclass(frozen=True)
class Case:
    policy: str
    plant: Callable[[Repair], str]  # creates the failing resource, returns the end of its uid
    live: Callable[[Repair], Any]  # the provider's read of the setting
    after: Any  # what ``live`` answers once fixed
    drift: Callable[[Repair], None] | None = None  # someone else changes it after the plan


def _no_bucket_encryption(repair: Repair) -> str:
    s3 = repair.client("s3")
    s3.create_bucket(Bucket="acme-plain")
    s3.delete_bucket_encryption(Bucket="acme-plain")
    return ":::acme-plain"


def _bucket_encryption(repair: Repair) -> Any:
    s3 = repair.client("s3")
    try:
        return s3.get_bucket_encryption(Bucket="acme-plain")["ServerSideEncryptionConfiguration"]
    except s3.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "ServerSideEncryptionConfigurationNotFoundError"
        return None


def _s3control(repair: Repair) -> Any:
    from posture.connectors.aws.calls import _strip_account_host

    client = repair.client("s3control")
    client.meta.events.register("before-sign.s3-control", _strip_account_host)
    return client


def _account_bpa(repair: Repair) -> Any:
    s3control = _s3control(repair)
    try:
        answer = s3control.get_public_access_block(AccountId=ACCOUNT)
    except s3control.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration"
        return None
    return answer["PublicAccessBlockConfiguration"]


def _partial_account_bpa(repair: Repair) -> str:
    _s3control(repair).put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    return ""


def _trail(repair: Repair) -> str:
    repair.client("s3").create_bucket(Bucket="acme-trail-logs")
    repair.client("cloudtrail").create_trail(Name="main", S3BucketName="acme-trail-logs")
    return ":trail/main"


def _trail_field(field: str) -> Callable[[Repair], Any]:
    def read(repair: Repair) -> Any:
        trail = repair.client("cloudtrail").get_trail(Name="main")["Trail"]
        return trail.get(field)

    return read


def _trail_logging(repair: Repair) -> Any:
    return repair.client("cloudtrail").get_trail_status(Name="main")["IsLogging"]


_KEYS: dict[str, str] = {}


def _key(repair: Repair) -> str:
    key_id = repair.client("kms").create_key(Description="acme data")["KeyMetadata"]["KeyId"]
    _KEYS["acme"] = key_id
    return f":key/{key_id}"


def _key_rotation(repair: Repair) -> Any:
    return repair.client("kms").get_key_rotation_status(KeyId=_KEYS["acme"])["KeyRotationEnabled"]


def _table(repair: Repair) -> str:
    repair.client("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ":table/orders"


def _pitr(repair: Repair) -> Any:
    answer = repair.client("dynamodb").describe_continuous_backups(TableName="orders")
    return answer["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"
    ]


def _table_protection(repair: Repair) -> Any:
    table = repair.client("dynamodb").describe_table(TableName="orders")["Table"]
    return table.get("DeletionProtectionEnabled", False)


def _repository(repair: Repair) -> str:
    repair.client("ecr").create_repository(repositoryName="web")
    return ":repository/web"


def _tag_mutability(repair: Repair) -> Any:
    repos = repair.client("ecr").describe_repositories(repositoryNames=["web"])["repositories"]
    return repos[0]["imageTagMutability"]


def _queue(repair: Repair) -> str:
    repair.client("sqs").create_queue(
        QueueName="jobs", Attributes={"SqsManagedSseEnabled": "false"}
    )
    return ":jobs"


def _queue_sse(repair: Repair) -> Any:
    sqs = repair.client("sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["SqsManagedSseEnabled"])
    return answer.get("Attributes", {}).get("SqsManagedSseEnabled")


def _db_instance(**settings: Any) -> Callable[[Repair], str]:
    def plant(repair: Repair) -> str:
        repair.client("rds").create_db_instance(
            DBInstanceIdentifier="orders-db",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="admin_user",
            MasterUserPassword="not-a-real-password-1",
            AllocatedStorage=20,
            **settings,
        )
        return ":db:orders-db"

    return plant


def _instance_field(field: str) -> Callable[[Repair], Any]:
    def read(repair: Repair) -> Any:
        answer = repair.client("rds").describe_db_instances(DBInstanceIdentifier="orders-db")
        return answer["DBInstances"][0][field]

    return read


def _db_cluster(**settings: Any) -> Callable[[Repair], str]:
    def plant(repair: Repair) -> str:
        repair.client("rds").create_db_cluster(
            DBClusterIdentifier="orders-cluster",
            Engine="aurora-postgresql",
            MasterUsername="admin_user",
            MasterUserPassword="not-a-real-password-1",
            **settings,
        )
        return ":cluster:orders-cluster"

    return plant


def _cluster_field(field: str) -> Callable[[Repair], Any]:
    def read(repair: Repair) -> Any:
        answer = repair.client("rds").describe_db_clusters(DBClusterIdentifier="orders-cluster")
        return answer["DBClusters"][0][field]

    return read


def _modify_instance(**settings: Any) -> Callable[[Repair], None]:
    def drift(repair: Repair) -> None:
        repair.client("rds").modify_db_instance(
            DBInstanceIdentifier="orders-db", ApplyImmediately=True, **settings
        )

    return drift


CASES: dict[str, Case] = {
    "aws.s3.default_encryption": Case(
        "aws.s3.bucket_default_encryption_enabled",
        _no_bucket_encryption,
        _bucket_encryption,
        {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": False,
                }
            ]
        },
    ),
    "aws.s3.account_block_public_access": Case(
        "aws.s3.account_block_public_access",
        _partial_account_bpa,
        _account_bpa,
        dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
            True,
        ),
    ),
    "aws.cloudtrail.log_file_validation": Case(
        "aws.cloudtrail.log_file_validation_enabled",
        _trail,
        _trail_field("LogFileValidationEnabled"),
        True,
    ),
    "aws.cloudtrail.start_logging": Case(
        "aws.cloudtrail.trail_logging_enabled", _trail, _trail_logging, True
    ),
    "aws.kms.key_rotation": Case("aws.kms.key_rotation_enabled", _key, _key_rotation, True),
    "aws.dynamodb.point_in_time_recovery": Case(
        "aws.dynamodb.table_point_in_time_recovery_enabled", _table, _pitr, "ENABLED"
    ),
    "aws.dynamodb.deletion_protection": Case(
        "aws.dynamodb.table_deletion_protection_enabled", _table, _table_protection, True
    ),
    "aws.ecr.tag_immutability": Case(
        "aws.ecr.repository_tags_immutable", _repository, _tag_mutability, "IMMUTABLE"
    ),
    "aws.sqs.managed_encryption": Case("aws.sqs.queue_encrypted", _queue, _queue_sse, "true"),
    "aws.rds.instance_not_public": Case(
        "aws.rds.db_instance_not_publicly_accessible",
        _db_instance(PubliclyAccessible=True),
        _instance_field("PubliclyAccessible"),
        False,
    ),
    "aws.rds.instance_deletion_protection": Case(
        "aws.rds.db_instance_deletion_protection_enabled",
        _db_instance(),
        _instance_field("DeletionProtection"),
        True,
    ),
    "aws.rds.instance_auto_minor_version_upgrade": Case(
        "aws.rds.db_instance_auto_minor_version_upgrade_enabled",
        _db_instance(AutoMinorVersionUpgrade=False),
        _instance_field("AutoMinorVersionUpgrade"),
        True,
    ),
    "aws.rds.instance_backup_retention": Case(
        "aws.rds.db_instance_backup_retention_7_days",
        _db_instance(BackupRetentionPeriod=3),
        _instance_field("BackupRetentionPeriod"),
        7,
        drift=_modify_instance(BackupRetentionPeriod=5),
    ),
    "aws.rds.instance_copy_tags_to_snapshot": Case(
        "aws.rds.db_instance_copy_tags_to_snapshot_enabled",
        _db_instance(CopyTagsToSnapshot=False),
        _instance_field("CopyTagsToSnapshot"),
        True,
    ),
    "aws.rds.cluster_deletion_protection": Case(
        "aws.rds.db_cluster_deletion_protection_enabled",
        _db_cluster(),
        _cluster_field("DeletionProtection"),
        True,
    ),
    "aws.rds.cluster_auto_minor_version_upgrade": Case(
        "aws.rds.db_cluster_auto_minor_version_upgrade_enabled",
        _db_cluster(AutoMinorVersionUpgrade=False),
        _cluster_field("AutoMinorVersionUpgrade"),
        True,
    ),
    "aws.rds.instance_iam_authentication": Case(
        "aws.rds.db_instance_iam_authentication_enabled",
        _db_instance(),
        _instance_field("IAMDatabaseAuthenticationEnabled"),
        True,
    ),
    "aws.rds.cluster_backup_retention": Case(
        "aws.rds.db_cluster_backup_retention_7_days",
        _db_cluster(BackupRetentionPeriod=2),
        _cluster_field("BackupRetentionPeriod"),
        7,
    ),
    "aws.rds.cluster_copy_tags_to_snapshot": Case(
        "aws.rds.db_cluster_copy_tags_to_snapshot_enabled",
        _db_cluster(CopyTagsToSnapshot=False),
        _cluster_field("CopyTagsToSnapshot"),
        True,
    ),
}


@pytest.mark.parametrize("fix_id", sorted(CASES))
def test_plan_apply_verify_and_rollback(repair: Repair, fix_id: str) -> None:
    case = CASES[fix_id]
    repair.setup([case.policy])
    uid_end = case.plant(repair)
    before = case.live(repair)
    assert before != case.after, "the planted resource must fail the policy"
    repair.scan([case.policy])
    assert repair.finding(case.policy, uid_end).state == "open"

    run = repair.plan(case.policy, uid_end)
    assert run.fix_id == fix_id and run.state == "planned"
    assert run.before != run.after
    assert case.live(repair) == before, "planning changes nothing"

    repair.approve(run)
    outcome = repair.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert case.live(repair) == case.after
    finding = repair.finding(case.policy, uid_end)
    assert finding.state == "resolved"
    assert repair.events(finding.id)[-1] == ("resolved", "fixed")

    back = repair.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert case.live(repair) == before
    assert repair.finding(case.policy, uid_end).state == "open"


@pytest.mark.parametrize("fix_id", sorted(f for f, c in CASES.items() if c.drift))
def test_a_resource_changed_after_the_plan_is_not_touched(repair: Repair, fix_id: str) -> None:
    case = CASES[fix_id]
    assert case.drift is not None
    repair.setup([case.policy])
    uid_end = case.plant(repair)
    repair.scan([case.policy])
    run = repair.plan(case.policy, uid_end)
    repair.approve(run)
    case.drift(repair)
    changed = case.live(repair)
    outcome = repair.apply(run)
    assert outcome.run.state == "aborted"
    assert "changed since the plan" in outcome.run.reason
    assert case.live(repair) == changed


def test_every_declarative_aws_fix_has_its_cycle_test() -> None:
    """A fix file added without a case here is noticed."""
    from posture.catalog import load_catalog

    catalog = load_catalog()
    declarative = {
        fix.id
        for fix in catalog.fixes.values()
        if fix.provider == "aws" and fix.handler is None and not fix.manual
    }
    assert declarative - set(CASES) <= TESTED_ELSEWHERE
