from __future__ import annotations

import json

from posture.connectors.aws.transforms import (
    ENRICHERS,
    TEMPLATE_FILTERS,
    credential_report,
    policy_document,
    s3_region,
)


def test_policy_document_normalises_shapes() -> None:
    raw = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*",
            },
        }
    )
    doc = policy_document(raw)
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"AWS": ["*"]}
    assert statement["Action"] == ["s3:GetObject"] and statement["Resource"] == ["arn:aws:s3:::b/*"]


def test_policy_document_accepts_url_encoded_and_dicts() -> None:
    encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22NotAction%22%3A%22iam%3A*%22%7D%5D%7D"
    assert policy_document(encoded)["Statement"][0]["NotAction"] == ["iam:*"]
    principal = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}]}
    assert policy_document(principal)["Statement"][0]["Principal"] == {
        "Service": ["ec2.amazonaws.com"]
    }
    assert policy_document(None) is None
    assert policy_document("not json") == {"_unparsed": "not json"}


def test_credential_report_types_values() -> None:
    content = (
        b"user,arn,password_enabled,password_last_used,mfa_active,access_key_1_active,cert_1_active\n"
        b"<root_account>,arn:aws:iam::1:root,not_supported,2026-01-01T00:00:00+00:00,true,false,N/A\n"
        b"taro,arn:aws:iam::1:user/taro,true,no_information,false,true,false\n"
    )
    rows = credential_report({"Content": content})
    assert rows[0] == {
        "user": "<root_account>",
        "arn": "arn:aws:iam::1:root",
        "password_enabled": None,
        "password_last_used": "2026-01-01T00:00:00+00:00",
        "mfa_active": True,
        "access_key_1_active": False,
        "cert_1_active": None,
    }
    assert rows[1]["password_enabled"] is True and rows[1]["password_last_used"] is None


def test_s3_region() -> None:
    assert s3_region(None) == "us-east-1"
    assert s3_region("EU") == "eu-west-1"
    assert s3_region("ap-northeast-1") == "ap-northeast-1"


def test_classic_listener_policies_names_the_ports_that_use_each_policy() -> None:
    doc = {
        "ListenerDescriptions": [
            {"Listener": {"Protocol": "HTTPS", "LoadBalancerPort": 443}, "PolicyNames": ["tls"]},
            {"Listener": {"Protocol": "SSL", "LoadBalancerPort": 8443}, "PolicyNames": ["tls"]},
            {"Listener": {"Protocol": "HTTP", "LoadBalancerPort": 80}},
        ],
        "policies": [
            {"PolicyName": "tls", "PolicyTypeName": "SSLNegotiationPolicyType"},
            {"PolicyName": "unused", "PolicyTypeName": "SSLNegotiationPolicyType"},
        ],
    }
    out = ENRICHERS["classic_listener_policies"](doc)
    assert [p["listener_ports"] for p in out["policies"]] == [[443, 8443], []]
    assert ENRICHERS["classic_listener_policies"]({"policies": None}) == {"policies": None}


def test_arn_resource_filter() -> None:
    topic = "arn:aws:sns:ap-northeast-1:111122223333:order-events"
    assert TEMPLATE_FILTERS["arn_resource"](topic) == "order-events"
    assert TEMPLATE_FILTERS["arn_resource"]("not-an-arn") == ""
