"""VPC networking: open security groups and NACLs, default groups left open, flow logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from posture.demo.common import (
    ANYWHERE,
    ANYWHERE_V6,
    COMPANY,
    HOSTILE_MARKUP,
    HOSTILE_SG_NAME,
    PRIVATE_CIDR,
    PRIVATE_CIDR_V6,
    PlantContext,
    ec2_tags,
    region_code,
    suffix,
)
from posture.demo.estate_s3 import create_bucket, harden_bucket
from posture.demo.manifest import Planted, Verdict

VPC, SG, NACL = "aws.ec2.vpc", "aws.ec2.security_group", "aws.ec2.network_acl"
PEERING = "aws.ec2.vpc_peering_connection"
BUCKET = "aws.s3.bucket"


@dataclass
class RegionNetwork:
    """The two planted VPCs of one region: "prod" left bad, "shared services" done right."""

    region: str
    bad_vpc: str = ""
    bad_subnet: str = ""
    good_vpc: str = ""
    good_subnet: str = ""
    planted: Planted = field(default_factory=Planted)


def tcp(port: int, *cidrs: str) -> dict[str, Any]:
    """An ingress permission for one TCP port; IPv6 ranges are told apart by their colon."""
    return {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "IpRanges": [{"CidrIp": c} for c in cidrs if ":" not in c],
        "Ipv6Ranges": [{"CidrIpv6": c} for c in cidrs if ":" in c],
    }


def _create_vpc(ec2: Any, region: str, name: str, cidr: str) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=ec2_tags("vpc", name))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock=cidr.replace(".0.0/16", ".1.0/24"),
        AvailabilityZone=f"{region}a",
        TagSpecifications=ec2_tags("subnet", f"{name}-private-a"),
    )["Subnet"]["SubnetId"]
    return vpc, subnet


def _default_group(ec2: Any, vpc: str) -> dict[str, Any]:
    filters = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    groups: list[dict[str, Any]] = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    return groups[0]


def _default_acl(ec2: Any, vpc: str) -> str:
    filters = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]}]
    return str(ec2.describe_network_acls(Filters=filters)["NetworkAcls"][0]["NetworkAclId"])


def _leave_defaults_open(ec2: Any, net: RegionNetwork) -> None:
    """Default SG keeps the allow-all egress and gets the usual self-referencing ingress."""
    group = _default_group(ec2, net.bad_vpc)["GroupId"]
    self_ref = {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]}
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[self_ref])
    acl, region = _default_acl(ec2, net.bad_vpc), net.region
    note = "default SG of the prod VPC with its rules left"
    net.planted.add(SG, group, "bad", ["6.5"], note, region=region, name="default")
    note = "default NACL of the prod VPC: allow everything from 0.0.0.0/0"
    net.planted.add(NACL, acl, "bad", ["6.2"], note, region=region)


def _acl_entry(acl: str, rule: int, cidr: str, ports: tuple[int, int] | None) -> dict[str, Any]:
    """An ingress allow entry: TCP ``ports`` or, without ports, all traffic."""
    entry: dict[str, Any] = {
        "NetworkAclId": acl,
        "RuleNumber": rule,
        "RuleAction": "allow",
        "Egress": False,
        "CidrBlock": cidr,
        "Protocol": "-1" if ports is None else "6",
    }
    if ports is not None:
        entry["PortRange"] = {"From": ports[0], "To": ports[1]}
    return entry


def _lock_down_defaults(ec2: Any, net: RegionNetwork) -> None:
    """Strip every rule of the default SG; default NACL ingress only from 10.0.0.0/8."""
    group = _default_group(ec2, net.good_vpc)
    group_id = group["GroupId"]
    if group["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=group["IpPermissions"])
    if group["IpPermissionsEgress"]:
        egress = group["IpPermissionsEgress"]
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=egress)
    acl, region = _default_acl(ec2, net.good_vpc), net.region
    ec2.replace_network_acl_entry(**_acl_entry(acl, 100, PRIVATE_CIDR, None))
    note = "default SG without any rule"
    net.planted.add(SG, group_id, "good", ["6.5"], note, region=region, name="default")
    note = "default NACL: ingress only from 10.0.0.0/8"
    net.planted.add(NACL, acl, "good", ["6.2"], note, region=region)


def _plant_flow_log(ctx: PlantContext, net: RegionNetwork) -> None:
    s3, region = ctx.client("s3", net.region), net.region
    bucket = f"{COMPANY}-vpc-flow-logs-{region_code(region)}"
    create_bucket(s3, bucket, region)
    harden_bucket(s3, bucket)
    ctx.client("ec2", region).create_flow_logs(
        ResourceIds=[net.good_vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{bucket}",
    )
    note = "flow log destination, hardened"
    net.planted.add(BUCKET, bucket, "good", ["3.1.4", "3.1.1", "2.21"], note, region=region)


def plant_vpcs(ctx: PlantContext, region: str) -> RegionNetwork:
    """A "prod" VPC left as created and a "shared services" VPC with its defaults fixed."""
    ec2, net = ctx.client("ec2", region), RegionNetwork(region)
    prod, shared = f"{COMPANY}-prod-vpc", f"{COMPANY}-shared-services-vpc"
    net.bad_vpc, net.bad_subnet = _create_vpc(ec2, region, prod, "10.10.0.0/16")
    net.good_vpc, net.good_subnet = _create_vpc(ec2, region, shared, "10.20.0.0/16")
    _leave_defaults_open(ec2, net)
    _lock_down_defaults(ec2, net)
    _plant_flow_log(ctx, net)
    net.planted.add(VPC, net.bad_vpc, "bad", ["4.7"], "no flow log", region=region, name=prod)
    note = "active flow log to S3"
    net.planted.add(VPC, net.good_vpc, "good", ["4.7"], note, region=region, name=shared)
    return net


def record_default_vpc(ctx: PlantContext, region: str) -> Planted:
    """moto's pre-existing default VPC (never touched) fails the same controls as "prod"."""
    ec2, planted = ctx.client("ec2", region), Planted()
    note = "pre-existing default VPC, not planted"
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    for vpc in vpcs:
        vpc_id = vpc["VpcId"]
        group = _default_group(ec2, vpc_id)["GroupId"]
        planted.add(VPC, vpc_id, "bad", ["4.7"], note, region=region)
        planted.add(SG, group, "bad", ["6.5"], note, region=region, name="default")
        planted.add(NACL, _default_acl(ec2, vpc_id), "bad", ["6.2"], note, region=region)
    return planted


def plant_network_acls(ctx: PlantContext, net: RegionNetwork) -> Planted:
    """Custom NACLs allowing SSH: from anywhere (prod) and from 10.0.0.0/8 (shared)."""
    ec2, planted = ctx.client("ec2", net.region), Planted()
    for vpc, name, ssh_from in (
        (net.bad_vpc, "public-subnet-nacl", ANYWHERE),
        (net.good_vpc, "private-subnet-nacl", PRIVATE_CIDR),
    ):
        tagging = ec2_tags("network-acl", name)
        acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=tagging)["NetworkAcl"]
        acl_id = acl["NetworkAclId"]
        ec2.create_network_acl_entry(**_acl_entry(acl_id, 100, ssh_from, (22, 22)))
        ec2.create_network_acl_entry(**_acl_entry(acl_id, 110, ANYWHERE, (443, 443)))
        verdict: Verdict = "bad" if ssh_from == ANYWHERE else "good"
        note = f"ingress TCP 22 from {ssh_from}, TCP 443 from anywhere"
        planted.add(NACL, acl_id, verdict, ["6.2"], note, region=net.region, name=name)
    return planted


@dataclass(frozen=True)
class GroupSpec:
    name: str
    description: str
    permissions: tuple[dict[str, Any], ...]
    expected: Verdict
    controls: tuple[str, ...]
    name_tag: str = ""


GROUPS = (
    GroupSpec(
        "bastion-ssh-sg",
        "SSH bastion for operators",
        (tcp(22, ANYWHERE, ANYWHERE_V6),),
        "bad",
        ("6.3", "6.4"),
    ),
    GroupSpec(
        "windows-rdp-sg", "RDP for the accounting terminal", (tcp(3389, ANYWHERE),), "bad", ("6.3",)
    ),
    GroupSpec(
        "fileshare-smb-sg",
        "SMB file share for branch offices",
        (tcp(445, ANYWHERE),),
        "bad",
        ("6.1.2",),
    ),
    GroupSpec(
        HOSTILE_SG_NAME,
        HOSTILE_MARKUP,
        ({"IpProtocol": "-1", "IpRanges": [{"CidrIp": ANYWHERE}]},),
        "bad",
        ("6.3", "6.1.2"),
        name_tag=HOSTILE_MARKUP,
    ),
    GroupSpec(
        "bastion-ssh-internal-sg",
        "SSH from the corporate network only",
        (tcp(22, PRIVATE_CIDR, PRIVATE_CIDR_V6),),
        "good",
        ("6.3", "6.4"),
    ),
    GroupSpec(
        "windows-rdp-internal-sg",
        "RDP from the corporate network only",
        (tcp(3389, PRIVATE_CIDR),),
        "good",
        ("6.3",),
    ),
    GroupSpec(
        "fileshare-smb-internal-sg",
        "SMB from the corporate network only",
        (tcp(445, PRIVATE_CIDR),),
        "good",
        ("6.1.2",),
    ),
    GroupSpec(
        "web-frontend-sg",
        "HTTPS for the public web frontend",
        (tcp(443, ANYWHERE, ANYWHERE_V6), tcp(80, ANYWHERE, ANYWHERE_V6)),
        "good",
        ("6.3", "6.4", "6.1.2"),
    ),
)


def plant_security_group_set(ctx: PlantContext, net: RegionNetwork, index: int) -> Planted:
    """Every :data:`GROUPS` entry once: bad ones in the prod VPC, twins in shared services."""
    ec2 = ctx.client("ec2", net.region)
    planted = Planted()
    for spec in GROUPS:
        name = spec.name + suffix(index, ctx.scale)
        group_id = ec2.create_security_group(
            GroupName=name,
            Description=spec.description,
            VpcId=net.bad_vpc if spec.expected == "bad" else net.good_vpc,
            TagSpecifications=ec2_tags("security-group", spec.name_tag or name, System="web"),
        )["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(spec.permissions))
        planted.add(
            SG,
            group_id,
            spec.expected,
            spec.controls,
            spec.description,
            region=net.region,
            name=name,
        )
    return planted


def plant_vpc_peering(ctx: PlantContext, net: RegionNetwork) -> Planted:
    """Peer "prod" with "shared services" (6.6): routed to the whole peer VPC in the first
    region, to one peer subnet elsewhere (the twin)."""
    ec2, planted = ctx.client("ec2", net.region), Planted()
    whole = net.region == ctx.primary
    name = f"{COMPANY}-prod-to-shared{'' if whole else '-scoped'}"
    pcx = ec2.create_vpc_peering_connection(
        VpcId=net.bad_vpc,
        PeerVpcId=net.good_vpc,
        TagSpecifications=ec2_tags("vpc-peering-connection", name),
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    table = ec2.create_route_table(
        VpcId=net.bad_vpc, TagSpecifications=ec2_tags("route-table", f"{name}-routes")
    )["RouteTable"]["RouteTableId"]
    destination = "10.20.0.0/16" if whole else "10.20.1.0/24"
    ec2.create_route(
        RouteTableId=table, DestinationCidrBlock=destination, VpcPeeringConnectionId=pcx
    )
    verdict: Verdict = "bad" if whole else "good"
    note = f"route {destination} via the peering ({'whole peer VPC' if whole else 'one subnet'})"
    planted.add(PEERING, pcx, verdict, ["6.6"], note, region=net.region, name=name)
    return planted
