"""EBS encryption by default, IMDSv2 and the security-group handler on moto."""

from __future__ import annotations

from typing import Any

from posture.remediate.handlers.aws_security_group import reaches

from .conftest import REGION, Repair

EBS = "aws.ec2.ebs_encryption_by_default_enabled"
IMDS = "aws.ec2.instance_imdsv2_required"
SSH4 = "aws.ec2.security_group_no_ssh_from_internet_ipv4"
RDP6 = "aws.ec2.security_group_no_rdp_from_internet_ipv6"
SG_POLICIES = [
    SSH4,
    "aws.ec2.security_group_no_ssh_from_internet_ipv6",
    "aws.ec2.security_group_no_rdp_from_internet_ipv4",
    RDP6,
]


# --- EBS encryption by default ------------------------------------------------------------


def _ebs(repair: Repair) -> bool:
    return bool(repair.client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"])


def test_ebs_default_encryption_plan_apply_rollback(repair: Repair) -> None:
    repair.setup([EBS])
    repair.client("ec2").disable_ebs_encryption_by_default()
    repair.scan([EBS])
    run = repair.plan(EBS, ":ebs-encryption-by-default")
    assert (run.before, run.after) == (False, True)
    assert not _ebs(repair)
    repair.approve(run)
    outcome = repair.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert _ebs(repair)
    finding = repair.finding(EBS, ":ebs-encryption-by-default")
    assert repair.events(finding.id)[-1] == ("resolved", "fixed")
    assert repair.rollback(outcome.run).run.state == "rolled_back"
    assert not _ebs(repair)


def test_ebs_changed_between_plan_and_apply_is_not_touched(repair: Repair) -> None:
    repair.setup([EBS])
    repair.client("ec2").disable_ebs_encryption_by_default()
    repair.scan([EBS])
    run = repair.plan(EBS, ":ebs-encryption-by-default")
    repair.approve(run)
    repair.client("ec2").enable_ebs_encryption_by_default()  # someone fixed it by hand
    outcome = repair.apply(run)
    assert outcome.run.state == "aborted"
    assert _ebs(repair)


# --- IMDSv2 ---------------------------------------------------------------------------------


def _instance(repair: Repair) -> str:
    ec2 = repair.client("ec2")
    answer = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
    )
    return str(answer["Instances"][0]["InstanceId"])


def _tokens(repair: Repair, instance: str) -> str:
    answer = repair.client("ec2").describe_instances(InstanceIds=[instance])
    return str(answer["Reservations"][0]["Instances"][0]["MetadataOptions"]["HttpTokens"])


def test_imdsv2_plan_apply_rollback(repair: Repair) -> None:
    repair.setup([IMDS])
    instance = _instance(repair)
    repair.scan([IMDS])
    run = repair.plan(IMDS, f"instance/{instance}")
    assert (run.before, run.after) == ("optional", "required")
    repair.approve(run)
    outcome = repair.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert _tokens(repair, instance) == "required"
    assert repair.finding(IMDS, f"instance/{instance}").state == "resolved"
    assert repair.rollback(outcome.run).run.state == "rolled_back"
    assert _tokens(repair, instance) == "optional"


def test_imdsv2_changed_between_plan_and_apply_is_not_touched(repair: Repair) -> None:
    repair.setup([IMDS])
    instance = _instance(repair)
    repair.scan([IMDS])
    run = repair.plan(IMDS, f"instance/{instance}")
    repair.approve(run)
    repair.client("ec2").modify_instance_metadata_options(
        InstanceId=instance, HttpTokens="required"
    )
    assert repair.apply(run).run.state == "aborted"
    assert _tokens(repair, instance) == "required"


# --- security group -------------------------------------------------------------------------


def _group(repair: Repair) -> str:
    ec2 = repair.client("ec2", REGION)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = str(
        ec2.create_security_group(GroupName="bastion", Description="b", VpcId=vpc)["GroupId"]
    )
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "ssh from anywhere"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 3389,
                "ToPort": 3389,
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            },
        ],
    )
    return group


def _ingress(repair: Repair, group: str) -> list[Any]:
    answer = repair.client("ec2").describe_security_groups(GroupIds=[group])
    rules = []
    for perm in answer["SecurityGroups"][0]["IpPermissions"]:
        for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            for item in perm.get(key, []):
                rules.append(
                    (perm["IpProtocol"], perm.get("FromPort"), item[field], item.get("Description"))
                )
    return sorted(rules, key=str)


def test_security_group_plan_removes_only_internet_admin_rules(repair: Repair) -> None:
    repair.setup(SG_POLICIES)
    group = _group(repair)
    repair.scan(SG_POLICIES)
    outcome = repair.plan_all(resources=[f"*{group}"])
    (run,) = outcome.runs  # one run for the group covers its SSH and RDP findings
    assert {r.reason for r in outcome.refused} == {"already_planned"}
    assert [(e["Cidr"], e["FromPort"]) for e in run.before] == [
        ("0.0.0.0/0", 22),
        ("0.0.0.0/0", 443),
        ("::/0", 3389),
    ]
    assert [(e["Cidr"], e["FromPort"]) for e in run.after] == [("0.0.0.0/0", 443)]


def test_security_group_apply_resolves_and_rollback_restores_exactly(repair: Repair) -> None:
    repair.setup(SG_POLICIES)
    group = _group(repair)
    original = _ingress(repair, group)
    repair.scan(SG_POLICIES)
    run = repair.plan(SSH4, group)
    repair.approve(run)
    outcome = repair.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert _ingress(repair, group) == sorted(
        [("tcp", 443, "0.0.0.0/0", None), ("tcp", 22, "10.0.0.0/8", None)], key=str
    )
    for policy in (SSH4, RDP6):
        finding = repair.finding(policy, group)
        assert finding.state == "resolved"
        assert repair.events(finding.id)[-1] == ("resolved", "fixed")
    assert repair.rollback(outcome.run).run.state == "rolled_back"
    assert _ingress(repair, group) == original  # descriptions included


def test_security_group_changed_between_plan_and_apply_is_not_touched(repair: Repair) -> None:
    repair.setup(SG_POLICIES)
    group = _group(repair)
    repair.scan(SG_POLICIES)
    run = repair.plan(SSH4, group)
    repair.approve(run)
    repair.client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 3389,
                "ToPort": 3389,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    changed = _ingress(repair, group)
    assert repair.apply(run).run.state == "aborted"
    assert _ingress(repair, group) == changed


def test_which_rules_reach_an_admin_port() -> None:
    def rule(protocol: str, low: int | None, high: int | None) -> dict[str, Any]:
        return {"IpProtocol": protocol, "FromPort": low, "ToPort": high}

    assert reaches(rule("tcp", 0, 65535), [22])
    assert reaches(rule("-1", None, None), [22])
    assert reaches(rule("6", 3389, 3389), [22, 3389])
    assert not reaches(rule("udp", 0, 65535), [22])
    assert not reaches(rule("tcp", 23, 3388), [22, 3389])
