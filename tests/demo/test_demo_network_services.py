"""EC2 networking, compute and the regional services as planted, read back with boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from posture.demo.common import HOSTILE_MARKUP, HOSTILE_SG_NAME
from tests.demo.demo_support import HOME, OTHER, REGIONS, PlantedEstate


def _group(ec2: Any, name: str) -> dict[str, Any]:
    """By exact name (an EC2 filter would read the ``*`` of the hostile name as a wildcard)."""
    groups = [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == name]
    assert len(groups) == 1, name
    return groups[0]  # type: ignore[no-any-return]


def _sources(group: dict[str, Any], port: int) -> set[str]:
    sources: set[str] = set()
    for rule in group["IpPermissions"]:
        if rule["IpProtocol"] == "-1" or rule.get("FromPort", -1) <= port <= rule.get("ToPort", -1):
            sources |= {r["CidrIp"] for r in rule.get("IpRanges", [])}
            sources |= {r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])}
    return sources


@pytest.mark.parametrize("region", REGIONS)
def test_security_groups(estate: PlantedEstate, region: str) -> None:
    ec2 = estate.client("ec2", region)
    assert _sources(_group(ec2, "bastion-ssh-sg"), 22) == {"0.0.0.0/0", "::/0"}
    assert _sources(_group(ec2, "windows-rdp-sg"), 3389) == {"0.0.0.0/0"}
    assert _sources(_group(ec2, "fileshare-smb-sg"), 445) == {"0.0.0.0/0"}
    assert _sources(_group(ec2, "bastion-ssh-internal-sg"), 22) == {"10.0.0.0/8", "fd00::/8"}
    assert _sources(_group(ec2, "windows-rdp-internal-sg"), 3389) == {"10.0.0.0/8"}
    assert _sources(_group(ec2, "fileshare-smb-internal-sg"), 445) == {"10.0.0.0/8"}
    assert _sources(_group(ec2, "web-frontend-sg"), 22) == set()
    hostile = _group(ec2, HOSTILE_SG_NAME)
    assert hostile["Description"] == HOSTILE_MARKUP
    assert {"Key": "Name", "Value": HOSTILE_MARKUP} in hostile["Tags"]
    assert _sources(hostile, 3389) == {"0.0.0.0/0"}


def _vpc_id(ec2: Any, name: str) -> str:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    return str(vpcs[0]["VpcId"])


def _default_group(ec2: Any, vpc: str) -> dict[str, Any]:
    filters = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    return ec2.describe_security_groups(Filters=filters)["SecurityGroups"][0]  # type: ignore[no-any-return]


def _ingress(ec2: Any, acl_filter: dict[str, Any]) -> list[dict[str, Any]]:
    acls = ec2.describe_network_acls(Filters=[acl_filter])["NetworkAcls"]
    return [
        e for acl in acls for e in acl["Entries"] if not e["Egress"] and e["RuleAction"] == "allow"
    ]


@pytest.mark.parametrize("region", REGIONS)
def test_vpcs_default_groups_nacls_and_flow_logs(estate: PlantedEstate, region: str) -> None:
    ec2 = estate.client("ec2", region)
    prod, shared = _vpc_id(ec2, "acme-jp-prod-vpc"), _vpc_id(ec2, "acme-jp-shared-services-vpc")
    flow_logs = ec2.describe_flow_logs()["FlowLogs"]
    assert [(f["ResourceId"], f["FlowLogStatus"]) for f in flow_logs] == [(shared, "ACTIVE")]
    loose = _default_group(ec2, prod)
    assert loose["IpPermissions"] and loose["IpPermissionsEgress"]
    tight = _default_group(ec2, shared)
    assert tight["IpPermissions"] == [] and tight["IpPermissionsEgress"] == []
    public = _ingress(ec2, {"Name": "tag:Name", "Values": ["public-subnet-nacl"]})
    assert {"CidrBlock": "0.0.0.0/0", "PortRange": {"From": 22, "To": 22}}.items() <= public[
        0
    ].items()
    private = _ingress(ec2, {"Name": "tag:Name", "Values": ["private-subnet-nacl"]})
    assert private[0]["CidrBlock"] == "10.0.0.0/8"
    shared_default = [
        e for e in _ingress(ec2, {"Name": "vpc-id", "Values": [shared]}) if e["RuleNumber"] == 100
    ]
    assert {e["CidrBlock"] for e in shared_default} == {"10.0.0.0/8"}


@pytest.mark.parametrize("region", REGIONS)
def test_instances_and_ebs(estate: PlantedEstate, region: str) -> None:
    ec2 = estate.client("ec2", region)
    reservations = ec2.describe_instances()["Reservations"]
    instances = {
        next(t["Value"] for t in i["Tags"] if t["Key"] == "Name"): i
        for r in reservations
        for i in r["Instances"]
    }
    legacy, app = instances["legacy-app-server"], instances["app-server"]
    assert legacy["MetadataOptions"]["HttpTokens"] == "optional"
    assert "IamInstanceProfile" not in legacy
    assert app["MetadataOptions"]["HttpTokens"] == "required"
    assert app["IamInstanceProfile"]["Arn"].endswith(":instance-profile/acme-jp-app-server")
    default_on = ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
    assert default_on is (region == OTHER)
    volumes = {
        next(t["Value"] for t in v["Tags"] if t["Key"] == "Name"): v["Encrypted"]
        for v in ec2.describe_volumes()["Volumes"]
        if v.get("Tags")
    }
    assert volumes == {"legacy-batch-data": False, "payroll-batch-data": True}


@pytest.mark.parametrize("region", REGIONS)
def test_kms_rds_efs(estate: PlantedEstate, region: str) -> None:
    kms = estate.client("kms", region)
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    rotation = kms.get_key_rotation_status
    assert rotation(KeyId=aliases["alias/acme-jp-legacy-archive"])["KeyRotationEnabled"] is False
    assert rotation(KeyId=aliases["alias/acme-jp-payroll-data"])["KeyRotationEnabled"] is True
    dbs = {
        d["DBInstanceIdentifier"]: d
        for d in estate.client("rds", region).describe_db_instances()["DBInstances"]
    }
    settings = ("StorageEncrypted", "PubliclyAccessible", "MultiAZ", "AutoMinorVersionUpgrade")
    assert [dbs["acme-jp-payroll-db-legacy"][s] for s in settings] == [False, True, False, False]
    assert [dbs["acme-jp-payroll-db"][s] for s in settings] == [True, False, True, True]
    systems = estate.client("efs", region).describe_file_systems()["FileSystems"]
    assert {f["Name"]: f["Encrypted"] for f in systems} == {
        "acme-jp-shared-docs": False,
        "acme-jp-hr-records": True,
    }


@pytest.mark.parametrize("region", REGIONS)
def test_aurora_clusters_in_home_region_only(estate: PlantedEstate, region: str) -> None:
    rds = estate.client("rds", region)
    clusters = {c["DBClusterIdentifier"]: c for c in rds.describe_db_clusters()["DBClusters"]}
    if region == OTHER:
        assert clusters == {}
        return
    settings = ("StorageEncrypted", "DeletionProtection", "BackupRetentionPeriod", "MultiAZ")
    legacy, twin = clusters["acme-jp-orders-aurora-legacy"], clusters["acme-jp-orders-aurora"]
    assert [legacy[s] for s in settings] == [False, False, 1, False]
    assert [twin[s] for s in settings] == [True, True, 14, True]
    assert (legacy["Engine"], twin["Engine"]) == ("aurora-mysql", "aurora-postgresql")
    assert [m["DBInstanceIdentifier"] for m in legacy["DBClusterMembers"]] == [
        "acme-jp-orders-aurora-legacy-1"
    ]
    members = {
        d["DBInstanceIdentifier"]: d
        for d in rds.describe_db_instances()["DBInstances"]
        if d.get("DBClusterIdentifier")
    }
    zones = {name: d["AvailabilityZone"] for name, d in members.items()}
    assert zones == {
        "acme-jp-orders-aurora-legacy-1": f"{HOME}a",
        "acme-jp-orders-aurora-1": f"{HOME}a",
        "acme-jp-orders-aurora-2": f"{HOME}c",
    }
    assert {name: d["StorageEncrypted"] for name, d in members.items()} == {
        "acme-jp-orders-aurora-legacy-1": False,
        "acme-jp-orders-aurora-1": True,
        "acme-jp-orders-aurora-2": True,
    }
    assert all(d["PubliclyAccessible"] is False for d in members.values())


def test_cloudtrail(estate: PlantedEstate) -> None:
    cloudtrail = estate.client("cloudtrail", HOME)
    trails = {
        t["Name"]: t for t in cloudtrail.describe_trails(includeShadowTrails=False)["trailList"]
    }
    legacy, audit = trails["acme-jp-legacy-ap-northeast-1-trail"], trails["acme-jp-org-audit-trail"]
    assert (legacy["IsMultiRegionTrail"], legacy["LogFileValidationEnabled"]) == (False, False)
    assert "KmsKeyId" not in legacy
    assert (audit["IsMultiRegionTrail"], audit["LogFileValidationEnabled"]) == (True, True)
    assert audit["KmsKeyId"]
    assert cloudtrail.get_trail_status(Name=audit["TrailARN"])["IsLogging"] is True
    selector = cloudtrail.get_event_selectors(TrailName=audit["TrailARN"])["EventSelectors"][0]
    assert selector["ReadWriteType"] == "All" and selector["IncludeManagementEvents"] is True
    assert selector["DataResources"][0]["Type"] == "AWS::S3::Object"
    s3 = estate.client("s3", HOME)
    assert s3.get_bucket_logging(Bucket=audit["S3BucketName"])["LoggingEnabled"]
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=legacy["S3BucketName"])


def test_config_and_security_hub_in_one_region_only(estate: PlantedEstate) -> None:
    status = estate.client("config", HOME).describe_configuration_recorder_status()
    assert [(s["recording"], s["lastStatus"]) for s in status["ConfigurationRecordersStatus"]] == [
        (True, "SUCCESS")
    ]
    other = estate.client("config", OTHER).describe_configuration_recorders()
    assert other["ConfigurationRecorders"] == []
    assert estate.client("securityhub", HOME).describe_hub()["HubArn"]
    with pytest.raises(ClientError) as info:
        estate.client("securityhub", OTHER).describe_hub()
    assert info.value.response["Error"]["Code"] == "InvalidAccessException"
