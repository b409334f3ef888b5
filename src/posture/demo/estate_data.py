"""Data stores: KMS key rotation, RDS instances and EFS file systems, bad and good."""

from __future__ import annotations

from typing import Any

from posture.demo.common import COMPANY, PlantContext, tags
from posture.demo.manifest import Planted, Verdict

KEY, DB, FS = "aws.kms.key", "aws.rds.db_instance", "aws.efs.file_system"
DB_PASSWORD = "Demo-Only-Passw0rd!2024"  # a planted demo credential, not a secret
RDS_CONTROLS = ("3.2.1", "3.2.2", "3.2.3", "3.2.4")


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
