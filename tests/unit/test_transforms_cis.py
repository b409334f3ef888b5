"""Normalisations and enrichers behind the CIS IAM and peering checks."""

from __future__ import annotations

import json
import urllib.parse

from posture.connectors.aws.transforms import access_keys_at_setup, inline_policies, peering_routes

ADMIN = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}


def test_inline_policies_flatten_every_principal_kind() -> None:
    encoded = urllib.parse.quote(json.dumps(ADMIN))  # as the raw API sends it
    response = {
        "UserDetailList": [
            {
                "UserName": "sato",
                "Arn": "arn:aws:iam::1:user/sato",
                "Path": "/",
                "UserPolicyList": [{"PolicyName": "all", "PolicyDocument": encoded}],
            },
            {"UserName": "no-inline", "Arn": "arn:aws:iam::1:user/no-inline"},
        ],
        "GroupDetailList": [
            {
                "GroupName": "ops",
                "Arn": "arn:aws:iam::1:group/ops",
                "GroupPolicyList": [{"PolicyName": "g", "PolicyDocument": ADMIN}],
            }
        ],
        "RoleDetailList": [
            {"RoleName": "app", "Arn": "arn:aws:iam::1:role/app", "RolePolicyList": []}
        ],
        "Policies": [{"PolicyName": "managed-ones-are-not-inline"}],
    }
    items = inline_policies(response)
    assert [(i["PrincipalType"], i["PrincipalName"], i["PolicyName"]) for i in items] == [
        ("user", "sato", "all"),
        ("group", "ops", "g"),
    ]
    for item in items:
        statement = item["document"]["Statement"][0]
        assert statement["Action"] == ["*"] and statement["Resource"] == ["*"]
    assert inline_policies({}) == [] and inline_policies(None) == []


def test_minutes_between_user_and_key_creation() -> None:
    row = {
        "user_creation_time": "2026-01-10T09:00:00+00:00",
        "access_key_1_last_rotated": "2026-01-10T09:00:30+00:00",
        "access_key_2_last_rotated": "2026-01-12T09:00:00Z",
    }
    out = access_keys_at_setup(row)
    assert out["access_key_1_minutes_after_user_creation"] == 0.5
    assert out["access_key_2_minutes_after_user_creation"] == 2880.0
    unknown = access_keys_at_setup({"user_creation_time": "2026-01-10T09:00:00+00:00"})
    assert unknown["access_key_1_minutes_after_user_creation"] is None
    assert unknown["access_key_2_minutes_after_user_creation"] is None


def _peering(*routes: dict[str, str]) -> dict[str, object]:
    return {
        "VpcPeeringConnectionId": "pcx-1",
        "RequesterVpcInfo": {
            "VpcId": "vpc-a",
            "CidrBlock": "10.0.0.0/16",
            "CidrBlockSet": [{"CidrBlock": "10.0.0.0/16"}, {"CidrBlock": "10.5.0.0/16"}],
        },
        "AccepterVpcInfo": {
            "VpcId": "vpc-b",
            "CidrBlock": "10.1.0.0/16",
            "Ipv6CidrBlockSet": [{"Ipv6CidrBlock": "2600:1f18:1::/56"}],
        },
        "route_tables": [
            {
                "RouteTableId": "rtb-a",
                "VpcId": "vpc-a",
                "Routes": [
                    {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
                    *routes,
                ],
            },
        ],
    }


def test_peering_routes_are_judged_against_the_other_side() -> None:
    doc = peering_routes(
        _peering(
            {"DestinationCidrBlock": "10.1.2.0/24", "VpcPeeringConnectionId": "pcx-1"},
            {"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": "pcx-1"},
            {"DestinationCidrBlock": "10.0.0.0/8", "VpcPeeringConnectionId": "pcx-1"},
            {"DestinationCidrBlock": "0.0.0.0/0", "VpcPeeringConnectionId": "pcx-1"},
            {"DestinationIpv6CidrBlock": "2600:1f18:1:10::/64", "VpcPeeringConnectionId": "pcx-1"},
            {"DestinationIpv6CidrBlock": "::/0", "VpcPeeringConnectionId": "pcx-1"},
            {"DestinationCidrBlock": "10.5.0.0/16", "VpcPeeringConnectionId": "pcx-1"},
            {"DestinationPrefixListId": "pl-123", "VpcPeeringConnectionId": "pcx-1"},
            {"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": "pcx-other"},
        )
    )
    assert "route_tables" not in doc
    verdicts = {
        r["Destination"] or r["DestinationPrefixListId"]: r["covers_whole_peer"]
        for r in doc["routes"]
    }
    assert verdicts == {
        "10.1.2.0/24": False,  # one subnet of the peer
        "10.1.0.0/16": True,  # the whole peer VPC
        "10.0.0.0/8": True,  # a supernet of it
        "0.0.0.0/0": True,
        "2600:1f18:1:10::/64": False,
        "::/0": True,
        "10.5.0.0/16": False,  # this side's own second block is not the peer's
        "pl-123": False,  # prefix lists are not judged
    }
    assert doc["routes"][0]["peer_cidrs"] == ["10.1.0.0/16", "2600:1f18:1::/56"]
