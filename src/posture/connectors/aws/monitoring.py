"""The CloudTrail activities CIS AWS section 5 asks to alarm on, as sample events.

A metric filter *monitors* an activity when its pattern matches every ``must_match`` event
(one per API call the benchmark lists, shaped like the CloudTrail records AWS writes) and
none of the ``must_not_match`` events (routine activity a useful alarm must stay quiet on,
so ``{ $.eventName = * }`` does not count). The filter is judged by what it matches, so any
equivalent way of writing the CIS pattern passes and a pattern that misses one required
call fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from posture.connectors.aws.filter_pattern import Expression, PatternError, parse

Event = dict[str, Any]


def _api_call(source: str, name: str, **extra: Any) -> Event:
    event: Event = {
        "eventVersion": "1.09",
        "eventSource": source,
        "eventName": name,
        "eventType": "AwsApiCall",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::111122223333:user/operator",
            "accountId": "111122223333",
            "userName": "operator",
        },
        "readOnly": False,
        "managementEvent": True,
    }
    event.update(extra)
    return event


def _calls(source: str, names: str) -> list[Event]:
    return [_api_call(source, name) for name in names.split()]


def _console_login(*, mfa: str, result: str, error: str | None = None) -> Event:
    event = _api_call(
        "signin.amazonaws.com",
        "ConsoleLogin",
        eventType="AwsConsoleSignIn",
        additionalEventData={"MFAUsed": mfa, "LoginTo": "https://console.aws.amazon.com/"},
        responseElements={"ConsoleLogin": result},
    )
    if error:
        event["errorMessage"] = error
    return event


@dataclass(frozen=True)
class Activity:
    must_match: list[Event]
    must_not_match: list[Event] = field(default_factory=list)

    def monitored_by(self, expression: Expression) -> bool:
        return all(expression.matches(e) for e in self.must_match) and not any(
            expression.matches(e) for e in self.must_not_match
        )


_ROOT = {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}

#: activity id (read by the section 5 policies) -> sample events
ACTIVITIES: dict[str, Activity] = {
    # 5.1: both wildcards matter (Client.UnauthorizedOperation, AccessDeniedException)
    "unauthorized_api_calls": Activity(
        must_match=[
            _api_call(
                "ec2.amazonaws.com", "RunInstances", errorCode="Client.UnauthorizedOperation"
            ),
            _api_call("ec2.amazonaws.com", "StopInstances", errorCode="UnauthorizedOperation"),
            _api_call("s3.amazonaws.com", "GetObject", errorCode="AccessDenied"),
            _api_call("kms.amazonaws.com", "Decrypt", errorCode="AccessDeniedException"),
        ],
        must_not_match=[
            _api_call("ec2.amazonaws.com", "DescribeInstances"),
            _api_call("s3.amazonaws.com", "PutObject", errorCode="NoSuchBucket"),
        ],
    ),
    # 5.2
    "console_signin_without_mfa": Activity(
        must_match=[_console_login(mfa="No", result="Success")],
        must_not_match=[_console_login(mfa="Yes", result="Success")],
    ),
    # 5.3: root activity, not what AWS services do on the root user's behalf
    "root_account_usage": Activity(
        must_match=[
            _api_call("s3.amazonaws.com", "ListBuckets", userIdentity=_ROOT),
            _api_call("iam.amazonaws.com", "CreateAccessKey", userIdentity=_ROOT),
        ],
        must_not_match=[
            _api_call("s3.amazonaws.com", "ListBuckets"),
            _api_call(
                "s3.amazonaws.com",
                "ListBuckets",
                userIdentity={**_ROOT, "invokedBy": "support.amazonaws.com"},
            ),
            _api_call(
                "kms.amazonaws.com", "Decrypt", userIdentity=_ROOT, eventType="AwsServiceEvent"
            ),
        ],
    ),
    # 5.4
    "iam_policy_changes": Activity(
        must_match=_calls(
            "iam.amazonaws.com",
            "DeleteGroupPolicy DeleteRolePolicy DeleteUserPolicy PutGroupPolicy PutRolePolicy "
            "PutUserPolicy CreatePolicy DeletePolicy CreatePolicyVersion DeletePolicyVersion "
            "AttachRolePolicy DetachRolePolicy AttachUserPolicy DetachUserPolicy "
            "AttachGroupPolicy DetachGroupPolicy",
        ),
        must_not_match=_calls("iam.amazonaws.com", "GetPolicy ListPolicies GetUser"),
    ),
    # 5.5
    "cloudtrail_config_changes": Activity(
        must_match=_calls(
            "cloudtrail.amazonaws.com",
            "CreateTrail UpdateTrail DeleteTrail StartLogging StopLogging",
        ),
        must_not_match=_calls("cloudtrail.amazonaws.com", "DescribeTrails GetTrailStatus"),
    ),
    # 5.6
    "console_auth_failures": Activity(
        must_match=[_console_login(mfa="No", result="Failure", error="Failed authentication")],
        must_not_match=[
            _console_login(mfa="Yes", result="Success"),
            _console_login(mfa="No", result="Success"),
        ],
    ),
    # 5.7
    "kms_key_disable_or_deletion": Activity(
        must_match=_calls("kms.amazonaws.com", "DisableKey ScheduleKeyDeletion"),
        must_not_match=_calls("kms.amazonaws.com", "Decrypt DescribeKey EnableKey"),
    ),
    # 5.8
    "s3_bucket_policy_changes": Activity(
        must_match=_calls(
            "s3.amazonaws.com",
            "PutBucketAcl PutBucketPolicy PutBucketCors PutBucketLifecycle PutBucketReplication "
            "DeleteBucketPolicy DeleteBucketCors DeleteBucketLifecycle DeleteBucketReplication",
        ),
        must_not_match=_calls("s3.amazonaws.com", "GetBucketPolicy ListBuckets"),
    ),
    # 5.9
    "config_changes": Activity(
        must_match=_calls(
            "config.amazonaws.com",
            "StopConfigurationRecorder DeleteDeliveryChannel PutDeliveryChannel "
            "PutConfigurationRecorder",
        ),
        must_not_match=_calls("config.amazonaws.com", "DescribeConfigurationRecorders"),
    ),
    # 5.10
    "security_group_changes": Activity(
        must_match=_calls(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress "
            "RevokeSecurityGroupIngress RevokeSecurityGroupEgress CreateSecurityGroup "
            "DeleteSecurityGroup ModifySecurityGroupRules",
        ),
        must_not_match=_calls("ec2.amazonaws.com", "DescribeSecurityGroups RunInstances"),
    ),
    # 5.11
    "nacl_changes": Activity(
        must_match=_calls(
            "ec2.amazonaws.com",
            "CreateNetworkAcl CreateNetworkAclEntry DeleteNetworkAcl DeleteNetworkAclEntry "
            "ReplaceNetworkAclEntry ReplaceNetworkAclAssociation",
        ),
        must_not_match=_calls("ec2.amazonaws.com", "DescribeNetworkAcls RunInstances"),
    ),
    # 5.12
    "network_gateway_changes": Activity(
        must_match=_calls(
            "ec2.amazonaws.com",
            "CreateCustomerGateway DeleteCustomerGateway AttachInternetGateway "
            "CreateInternetGateway DeleteInternetGateway DetachInternetGateway",
        ),
        must_not_match=_calls("ec2.amazonaws.com", "DescribeInternetGateways RunInstances"),
    ),
    # 5.13
    "route_table_changes": Activity(
        must_match=_calls(
            "ec2.amazonaws.com",
            "CreateRoute CreateRouteTable ReplaceRoute ReplaceRouteTableAssociation "
            "DeleteRouteTable DeleteRoute DisassociateRouteTable",
        ),
        must_not_match=_calls("ec2.amazonaws.com", "DescribeRouteTables RunInstances"),
    ),
    # 5.14
    "vpc_changes": Activity(
        must_match=_calls(
            "ec2.amazonaws.com",
            "CreateVpc DeleteVpc ModifyVpcAttribute AcceptVpcPeeringConnection "
            "CreateVpcPeeringConnection DeleteVpcPeeringConnection RejectVpcPeeringConnection "
            "AttachClassicLinkVpc DetachClassicLinkVpc DisableVpcClassicLink EnableVpcClassicLink",
        ),
        must_not_match=_calls("ec2.amazonaws.com", "DescribeVpcs RunInstances"),
    ),
    # 5.15
    "organizations_changes": Activity(
        must_match=_calls(
            "organizations.amazonaws.com",
            "AcceptHandshake AttachPolicy CreateAccount CreateOrganizationalUnit CreatePolicy "
            "DeclineHandshake DeleteOrganization DeleteOrganizationalUnit DeletePolicy "
            "DetachPolicy DisablePolicyType EnablePolicyType InviteAccountToOrganization "
            "LeaveOrganization MoveAccount RemoveAccountFromOrganization UpdatePolicy "
            "UpdateOrganizationalUnit",
        ),
        must_not_match=_calls("organizations.amazonaws.com", "DescribeOrganization ListAccounts"),
    ),
}


def monitored_activities(pattern: Any) -> tuple[list[str], str | None]:
    """(ids of the activities the pattern monitors, why it could not be read or None)."""
    try:
        expression = parse(str(pattern or ""))
    except PatternError as exc:
        return [], str(exc)
    return [name for name, a in ACTIVITIES.items() if a.monitored_by(expression)], None
