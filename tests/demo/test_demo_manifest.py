"""The manifest: its shape, its vocabulary, and that everything it lists really exists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from posture.demo import plant_estate
from posture.demo.common import region_code, suffix
from posture.demo.manifest import EstateManifest, Planted
from tests.demo.demo_support import REGIONS, PlantedEstate

ROOT = Path(__file__).resolve().parents[2]


def _scanner_types() -> set[str]:
    types: set[str] = set()
    for path in (ROOT / "scanners" / "aws").glob("*.yaml"):
        types.update(yaml.safe_load(path.read_text(encoding="utf-8")))
    return types


def _cis_controls() -> set[str]:
    framework = yaml.safe_load((ROOT / "policies/frameworks/cis-aws-7.0.yaml").read_text("utf-8"))
    return {str(control["id"]) for control in framework["controls"]}


def test_manifest_uses_scanner_types_and_cis_ids(estate: PlantedEstate) -> None:
    manifest = estate.manifest
    assert manifest.regions == REGIONS and manifest.scale == 1
    assert {r.resource_type for r in manifest.resources} <= _scanner_types()
    assert {c for r in manifest.resources for c in r.controls} <= _cis_controls()
    assert all(r.region in (None, *REGIONS) for r in manifest.resources)
    json.dumps(manifest.to_dict())  # serialisable for bench output


def test_every_exercised_control_has_both_sides_where_moto_allows(estate: PlantedEstate) -> None:
    manifest = estate.manifest
    bad = {c for r in manifest.bad() for c in r.controls}
    good = {c for r in manifest.good() for c in r.controls}
    one_sided = {"3.1.2", "2.8", "2.9"}  # MFA Delete dropped by moto; one password policy
    account_wide = {"2.2", "2.15", "4.1", "4.8", "4.9"}  # contact; support role; the trail
    assert bad - good == one_sided
    assert good - bad == account_wide
    expected_controls = {"2.10", "2.11", "2.12", "2.13", "2.14", "2.16", "2.18", "2.21"}
    expected_controls |= {"3.1.1", "3.1.4", "3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.3.1"}
    expected_controls |= {"4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "5.16"}
    expected_controls |= {"6.1.1", "6.1.2", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7"}
    assert expected_controls <= bad & good


def test_expectations_leave_out_steps_not_run(estate: PlantedEstate) -> None:
    manifest = estate.manifest
    full = manifest.expectations(steps=["backdate_iam", "settle_config_recorders"])
    plain = manifest.expectations()
    dropped = {(e.identifier, e.control) for e in full} - {(e.identifier, e.control) for e in plain}
    assert dropped == {
        ("tanaka.hiroshi", "2.11"),
        ("batch-etl-svc", "2.11"),
        ("batch-etl-svc", "2.12"),
        (REGIONS[0], "4.3"),
    }
    assert estate.backdated == ["batch-etl-svc", "tanaka.hiroshi"]
    assert estate.settled == [REGIONS[0]]


def _ids(estate: PlantedEstate, region: str) -> dict[str, set[str]]:
    """Identifiers per scanner type as read back through the API."""
    ec2, iam = estate.client("ec2", region), estate.client("iam", region)
    listers: dict[str, Callable[[], list[str]]] = {
        "aws.s3.bucket": lambda: [b["Name"] for b in estate.client("s3").list_buckets()["Buckets"]],
        "aws.ec2.security_group": lambda: [
            g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]
        ],
        "aws.ec2.network_acl": lambda: [
            a["NetworkAclId"] for a in ec2.describe_network_acls()["NetworkAcls"]
        ],
        "aws.ec2.vpc": lambda: [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]],
        "aws.ec2.instance": lambda: [
            i["InstanceId"]
            for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
        ],
        "aws.ec2.volume": lambda: [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]],
        "aws.iam.user": lambda: [u["UserName"] for u in iam.list_users()["Users"]],
        "aws.iam.policy": lambda: [
            p["PolicyName"] for p in iam.list_policies(OnlyAttached=True)["Policies"]
        ],
        "aws.kms.key": lambda: [
            k["KeyId"] for k in estate.client("kms", region).list_keys()["Keys"]
        ],
        "aws.rds.db_instance": lambda: [
            d["DBInstanceIdentifier"]
            for d in estate.client("rds", region).describe_db_instances()["DBInstances"]
        ],
        "aws.rds.db_cluster": lambda: [
            c["DBClusterIdentifier"]
            for c in estate.client("rds", region).describe_db_clusters()["DBClusters"]
        ],
        "aws.efs.file_system": lambda: [
            f["FileSystemId"]
            for f in estate.client("efs", region).describe_file_systems()["FileSystems"]
        ],
        "aws.cloudtrail.trail": lambda: [
            t["Name"] for t in estate.client("cloudtrail", region).describe_trails()["trailList"]
        ],
    }
    return {kind: set(lister()) for kind, lister in listers.items()}


@pytest.mark.parametrize("region", REGIONS)
def test_every_listed_resource_exists(estate: PlantedEstate, region: str) -> None:
    found = _ids(estate, region)
    checked = 0
    for resource in estate.manifest.resources:
        if resource.region not in (None, region) or resource.resource_type not in found:
            continue
        assert resource.identifier in found[resource.resource_type], resource
        checked += 1
    assert checked > 40


def test_naming_helpers() -> None:
    assert region_code("ap-northeast-1") == "apn1"
    assert region_code("us-east-1") == "use1"
    assert suffix(0, 1) == "" and suffix(6, 50) == "-007"


def test_planted_merge_keeps_gaps_unique() -> None:
    first, second = Planted(gaps=["a"]), Planted(gaps=["a", "b"])
    second.add("aws.s3.bucket", "x", "bad", ["3.1.4"])
    first.merge(second)
    assert first.gaps == ["a", "b"] and first.resources[0].controls == ("3.1.4",)
    manifest = EstateManifest("http://x", "1", ("r",), 1, resources=first.resources)
    assert manifest.find("aws.s3.bucket", "x") == manifest.bad() == manifest.for_control("3.1.4")


@pytest.mark.parametrize(("regions", "scale"), [([], 1), (["us-east-1"], 0)])
def test_plant_estate_rejects_bad_arguments(regions: list[str], scale: int) -> None:
    with pytest.raises(ValueError):
        plant_estate("http://127.0.0.1:1", regions=regions, scale=scale)
