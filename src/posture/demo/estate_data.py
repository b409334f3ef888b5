"""Data stores: KMS key rotation, RDS instances, Aurora clusters and EFS file systems."""

from __future__ import annotations

from typing import Any

from posture.demo.common import COMPANY, PlantContext, tags
from posture.demo.manifest import Planted, Verdict

KEY, DB, FS = "aws.kms.key", "aws.rds.db_instance", "aws.efs.file_system"
CLUSTER = "aws.rds.db_cluster"
DB_PASSWORD = "Demo-Only-Passw0rd!2024"  # a planted demo credential, not a secret
RDS_CONTROLS = ("3.2.1", "3.2.2", "3.2.3", "3.2.4")
#: Only 3.2.4 names DB clusters; 3.2.1-3.2.3 are judged on the member instances.
CLUSTER_CONTROLS = ("3.2.4",)


def create_key(kms: Any, alias: str, description: str, *, rotate: bool) -> str:
    owner = [{"TagKey": "Owner", "TagValue": COMPANY}]
    key_id = str(kms.create_key(Description=description, Tags=owner)["KeyMetadata"]["KeyId"])
    kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key_id)
    if rotate:
        kms.enable_key_rotation(KeyId=key_id)
    return key_id


def plant_kms(ctx: PlantContext, region: str) -> Planted:
    kms, planted = ctx.client("kms", region), Planted()
    for alias, description, rotate in (
        (f"{COMPANY}-legacy-archive", "旧アーカイブ用キー", False),
        (f"{COMPANY}-payroll-data", "給与データ用キー", True),
    ):
        key = create_key(kms, alias, description, rotate=rotate)
        verdict: Verdict = "good" if rotate else "bad"
        note = f"customer managed key, rotation {'on' if rotate else 'off'}"
        planted.add(KEY, key, verdict, ["4.6"], note, region=region, name=alias)
    return planted


def plant_rds(ctx: PlantContext, region: str) -> Planted:
    """A legacy MySQL instance with every RDS setting wrong, a PostgreSQL twin done right."""
    rds, planted = ctx.client("rds", region), Planted()
    for identifier, engine, right in (
        (f"{COMPANY}-payroll-db-legacy", "mysql", False),
        (f"{COMPANY}-payroll-db", "postgres", True),
    ):
        rds.create_db_instance(
            DBInstanceIdentifier=identifier,
            Engine=engine,
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="dbadmin",
            MasterUserPassword=DB_PASSWORD,
            StorageEncrypted=right,
            PubliclyAccessible=not right,
            MultiAZ=right,
            AutoMinorVersionUpgrade=right,
            Tags=tags(System="payroll", Environment="production" if right else "legacy"),
        )
        if right:
            note = "encrypted, private, Multi-AZ, auto minor version upgrade"
            planted.add(DB, identifier, "good", RDS_CONTROLS, note, region=region)
        else:
            note = "unencrypted, publicly accessible, single-AZ, no auto minor version upgrade"
            planted.add(DB, identifier, "bad", RDS_CONTROLS, note, region=region)
    if region == ctx.primary:
        planted.merge(plant_aurora(ctx, region))
    return planted


def plant_aurora(ctx: PlantContext, region: str) -> Planted:
    """A legacy Aurora MySQL cluster done wrong and an Aurora PostgreSQL twin done right.

    moto derives a cluster's MultiAZ from the zones of its member instances, so the twin gets
    a writer and a reader in two zones and the legacy cluster a lone writer. The members are
    ``aws.rds.db_instance`` resources too: they carry the cluster's encryption (3.2.1) and are
    made private with automatic minor upgrades, so only the legacy writer fails, on 3.2.1.
    """
    rds, planted = ctx.client("rds", region), Planted()
    for identifier, engine, right in (
        (f"{COMPANY}-orders-aurora-legacy", "aurora-mysql", False),
        (f"{COMPANY}-orders-aurora", "aurora-postgresql", True),
    ):
        rds.create_db_cluster(
            DBClusterIdentifier=identifier,
            Engine=engine,
            MasterUsername="dbadmin",
            MasterUserPassword=DB_PASSWORD,
            StorageEncrypted=right,
            DeletionProtection=right,
            BackupRetentionPeriod=14 if right else 1,
            EnableIAMDatabaseAuthentication=right,
            CopyTagsToSnapshot=right,
            Tags=tags(System="orders", Environment="production" if right else "legacy"),
        )
        zones = ("a", "c") if right else ("a",)
        for number, zone in enumerate(zones, start=1):
            member = f"{identifier}-{number}"
            rds.create_db_instance(
                DBInstanceIdentifier=member,
                DBClusterIdentifier=identifier,
                Engine=engine,
                DBInstanceClass="db.r6g.large",
                AvailabilityZone=f"{region}{zone}",
                PubliclyAccessible=False,
                AutoMinorVersionUpgrade=True,
                Tags=tags(System="orders"),
            )
            verdict: Verdict = "good" if right else "bad"
            note = f"member of {identifier}: {'encrypted' if right else 'unencrypted'} storage"
            planted.add(DB, member, verdict, ["3.2.1"], note, region=region)
        if right:
            note = "encrypted, deletion protection, 14-day backups, writer and reader in two zones"
            planted.add(CLUSTER, identifier, "good", CLUSTER_CONTROLS, note, region=region)
        else:
            note = "unencrypted, no deletion protection, 1-day backups, lone writer in one zone"
            planted.add(CLUSTER, identifier, "bad", CLUSTER_CONTROLS, note, region=region)
    planted.gaps.append(
        "Multi-AZ DB clusters (RDS for MySQL/PostgreSQL) are not planted: moto creates none of "
        "their three instances, reports MultiAZ false for them and rejects IAM authentication, "
        "so only Aurora clusters are; cluster-level public access is therefore not exercised."
    )
    return planted


def plant_efs(ctx: PlantContext, region: str) -> Planted:
    efs, planted = ctx.client("efs", region), Planted()
    for name, encrypted in ((f"{COMPANY}-shared-docs", False), (f"{COMPANY}-hr-records", True)):
        tagging = tags(Name=name, 部署="人事部")
        fs = efs.create_file_system(CreationToken=name, Encrypted=encrypted, Tags=tagging)
        verdict: Verdict = "good" if encrypted else "bad"
        note = "encrypted at rest" if encrypted else "not encrypted at rest"
        planted.add(FS, fs["FileSystemId"], verdict, ["3.3.1"], note, region=region, name=name)
    return planted
