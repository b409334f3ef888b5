"""Collection of the CIS types added for inline policies, peering, Access Analyzer and contacts."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.engine import evaluate
from posture.models import Status

REGIONS = ["us-east-1", "ap-northeast-1"]
ADMIN = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}


def _collect(catalog: Catalog, types: list[str], endpoint: str | None = None):  # type: ignore[no-untyped-def]
    target = open_target("test", AwsSettings(endpoint_url=endpoint, regions=REGIONS))
    return AwsCollector(target, [catalog.specs[t] for t in types]).collect()


def _failing(catalog: Catalog, inventory, policy_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    policy = catalog.policies[policy_id]
    return {
        r.resource_uid for r in evaluate([policy], inventory.resources) if r.status is Status.FAIL
    }


@mock_aws
def test_inline_policies_of_users_groups_and_roles(catalog: Catalog) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="sato")
    iam.put_user_policy(UserName="sato", PolicyName="all", PolicyDocument=json.dumps(ADMIN))
    iam.create_group(GroupName="ops")
    broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}],
    }
    iam.put_group_policy(GroupName="ops", PolicyName="broad", PolicyDocument=json.dumps(broad))
    iam.create_role(
        RoleName="app",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    scoped = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
        ],
    }
    iam.put_role_policy(RoleName="app", PolicyName="read", PolicyDocument=json.dumps(scoped))
    inventory = _collect(catalog, ["aws.iam.inline_policy"])
    assert inventory.failures == []
    docs = {r.name: r for r in inventory.resources}
    assert set(docs) == {"sato/all", "ops/broad", "app/read"}
    assert docs["sato/all"].uid == "arn:aws:iam::123456789012:user/sato#inline-policy/all"
    assert docs["sato/all"].data["document"]["Statement"][0]["Action"] == ["*"]
    assert docs["ops/broad"].data["PrincipalType"] == "group"
    assert docs["app/read"].data["document"]["Statement"][0]["Resource"] == ["arn:aws:s3:::b/*"]
    assert inventory.stats["aws.iam.inline_policy"].calls == 1  # one call for every principal
    failing = _failing(catalog, inventory, "aws.iam.inline_policy_full_admin")
    assert failing == {docs["sato/all"].uid, docs["ops/broad"].uid}


@mock_aws
def test_peering_routes_are_judged_against_the_peer_vpc(catalog: Catalog) -> None:
    ec2 = boto3.client("ec2", region_name="ap-northeast-1")
    app = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    db = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=app, PeerVpcId=db)["VpcPeeringConnection"]
    pcx_id = pcx["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    wide = ec2.create_route_table(VpcId=app)["RouteTable"]["RouteTableId"]
    narrow = ec2.create_route_table(VpcId=db)["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=wide, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=pcx_id
    )
    ec2.create_route(
        RouteTableId=narrow, DestinationCidrBlock="10.0.3.0/24", VpcPeeringConnectionId=pcx_id
    )
    inventory = _collect(catalog, ["aws.ec2.vpc_peering_connection"])
    assert inventory.failures == []
    (peering,) = [r for r in inventory.resources if r.region == "ap-northeast-1"]
    routes = {r["RouteTableId"]: r for r in peering.data["routes"]}
    assert routes[wide]["covers_whole_peer"] is True and routes[wide]["peer_cidrs"] == [
        "10.1.0.0/16"
    ]
    assert routes[narrow]["covers_whole_peer"] is False
    assert routes[narrow]["peer_cidrs"] == ["10.0.0.0/16"]
    assert "route_tables" not in peering.data
    assert _failing(catalog, inventory, "aws.ec2.vpc_peering_routes_least_access") == {peering.uid}


def test_access_analyzer_and_contact_through_the_local_additions(
    catalog: Catalog, moto_url: str
) -> None:
    kw = {"endpoint_url": moto_url}
    boto3.client("accessanalyzer", region_name="us-east-1", **kw).create_analyzer(
        analyzerName="external", type="ACCOUNT"
    )
    types = ["aws.accessanalyzer.region", "aws.account.contact_information"]
    inventory = _collect(catalog, types, moto_url)
    assert inventory.failures == []
    regions = {r.region: r for r in inventory.resources if r.type == types[0]}
    assert regions["us-east-1"].data["account_analyzers"][0]["status"] == "ACTIVE"
    assert regions["ap-northeast-1"].data == {"account_analyzers": [], "organization_analyzers": []}
    failing = _failing(catalog, inventory, "aws.accessanalyzer.external_access_analyzer_enabled")
    assert failing == {regions["ap-northeast-1"].uid}
    (contact,) = [r for r in inventory.resources if r.type == types[1]]
    assert contact.data == {}  # ResourceNotFoundException: nothing on record, contact reads null
    assert _failing(catalog, inventory, "aws.account.contact_details_complete") == {contact.uid}

    boto3.client("account", region_name="us-east-1", **kw).put_contact_information(
        ContactInformation={
            "FullName": "Acme Cloud Operations",
            "AddressLine1": "1-1 Marunouchi",
            "City": "Chiyoda-ku",
            "PostalCode": "100-0005",
            "CountryCode": "JP",
            "PhoneNumber": "+81-3-1234-5678",
        }
    )
    inventory = _collect(catalog, types[1:], moto_url)
    assert inventory.resources[0].data["contact"]["City"] == "Chiyoda-ku"
    assert _failing(catalog, inventory, "aws.account.contact_details_complete") == set()
