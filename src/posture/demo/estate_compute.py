"""EC2 instances (IMDSv1, no instance profile) and EBS encryption, with twins."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from posture.demo.common import HOSTILE_MARKUP, PlantContext, ec2_tags, error_code
from posture.demo.estate_iam import INSTANCE_PROFILE
from posture.demo.estate_network import RegionNetwork
from posture.demo.manifest import Planted

INSTANCE, VOLUME, EBS = "aws.ec2.instance", "aws.ec2.volume", "aws.ec2.ebs_encryption"
#: Any id works while moto's AMI validation is off (its default); else one is looked up.
DEMO_IMAGE_ID = "ami-0abcdef1234567890"
NO_VOLUME_CONTROL = "no CIS v7.0 control checks single volumes (6.1.1 is the region default)"


def _run(ec2: Any, **kwargs: Any) -> list[str]:
    try:
        reservation = ec2.run_instances(ImageId=DEMO_IMAGE_ID, **kwargs)
    except ClientError as exc:
        if not error_code(exc).startswith("InvalidAMIID"):
            raise
        image = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
        reservation = ec2.run_instances(ImageId=image, **kwargs)
    return [str(instance["InstanceId"]) for instance in reservation["Instances"]]


def plant_instances(ctx: PlantContext, net: RegionNetwork) -> Planted:
    """``scale`` IMDSv1 instances without a profile, ``scale`` IMDSv2-only twins with one."""
    ec2 = ctx.client("ec2", net.region)
    count = {"MinCount": ctx.scale, "MaxCount": ctx.scale, "InstanceType": "t3.micro"}
    bad = _run(
        ec2,
        SubnetId=net.bad_subnet,
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
        TagSpecifications=ec2_tags("instance", "legacy-app-server", Owner=HOSTILE_MARKUP),
        **count,
    )
    good = _run(
        ec2,
        SubnetId=net.good_subnet,
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
        IamInstanceProfile={"Name": INSTANCE_PROFILE},
        TagSpecifications=ec2_tags("instance", "app-server", Owner="platform-team"),
        **count,
    )
    planted, region = Planted(), net.region
    note = "HttpTokens optional (IMDSv1 allowed), no instance profile"
    for instance in bad:
        planted.add(
            INSTANCE,
            instance,
            "bad",
            ["6.7", "2.16"],
            note,
            region=region,
            name="legacy-app-server",
        )
    note = f"HttpTokens required, instance profile {INSTANCE_PROFILE}"
    for instance in good:
        planted.add(
            INSTANCE, instance, "good", ["6.7", "2.16"], note, region=region, name="app-server"
        )
    return planted


def plant_ebs(ctx: PlantContext, region: str) -> Planted:
    """Volumes first (so the unencrypted one predates the default), then the region default.

    Default encryption stays off in the first region and is switched on in the others.
    """
    ec2, planted = ctx.client("ec2", region), Planted()
    for name, encrypted in (("legacy-batch-data", False), ("payroll-batch-data", True)):
        volume = ec2.create_volume(
            AvailabilityZone=f"{region}a",
            Size=50,
            Encrypted=encrypted,
            TagSpecifications=ec2_tags("volume", name),
        )["VolumeId"]
        note = ("encrypted; " if encrypted else "unencrypted; ") + NO_VOLUME_CONTROL
        planted.add(
            VOLUME, volume, "good" if encrypted else "bad", [], note, region=region, name=name
        )
    if region == ctx.primary:
        ec2.disable_ebs_encryption_by_default()
        planted.add(EBS, region, "bad", ["6.1.1"], "encryption by default off", region=region)
    else:
        ec2.enable_ebs_encryption_by_default()
        planted.add(EBS, region, "good", ["6.1.1"], "encryption by default on", region=region)
    planted.gaps.append(
        "moto does not implement GetEbsDefaultKmsKeyId: the default_kms_key detail of "
        "aws.ec2.ebs_encryption fails against moto."
    )
    return planted
