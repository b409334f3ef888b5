"""Small helpers for collector tests: call counting and fault injection at the botocore seam."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse

from posture.connectors.aws.session import AwsTarget

# operations that are polled by design (GenerateCredentialReport until COMPLETE)
POLLED = {"GenerateCredentialReport"}


def count_calls(target: AwsTarget) -> Counter[str]:
    """Count every API call (operation + parameters) made through the target's session."""
    seen: Counter[str] = Counter()

    def on_call(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if model.name in POLLED:
            return
        args = json.dumps(params, sort_keys=True, default=str)
        seen[
            f"{model.service_model.service_name}.{model.name} {args} {context.get('client_region')}"
        ] += 1

    target.session.events.register("before-parameter-build", on_call)
    return seen


def inject_error(
    target: AwsTarget, service: str, operation: str, code: str, status: int = 403
) -> None:
    """Make one operation answer with an AWS error, as a denied or throttled account would."""

    def on_call(model: Any, **_: Any) -> Any:
        if model.name == operation:
            return (
                AWSResponse("https://injected.invalid", status, {}, None),
                {
                    "Error": {"Code": code, "Message": f"injected {code}"},
                    "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
                },
            )
        return None

    target.session.events.register(f"before-call.{service}.{operation}", on_call)


def open_ssh_group(
    ec2: Any, name: str, description: str = "test", vpc_id: str | None = None
) -> str:
    """A security group that allows SSH from anywhere; returns its id."""
    kwargs = {"VpcId": vpc_id} if vpc_id else {}
    group = ec2.create_security_group(GroupName=name, Description=description, **kwargs)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    return str(group)
