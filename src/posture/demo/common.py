"""Shared context, naming and small helpers of the estate planters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from posture.demo.clients import EstateClients

#: Markup that must come out of every report as inert text. AWS accepts it in EC2 tags and
#: KMS descriptions; moto (unlike AWS) also accepts it in S3 and IAM tags and SG descriptions.
HOSTILE_MARKUP = "<script>alert(1)</script>"
#: Hostile text built only from characters AWS allows in a VPC security group *name*
#: (a-z A-Z 0-9 space . _ - : / ( ) # , @ [ ] + = & ; { } ! $ *): a javascript: URL
#: and a template expression.
HOSTILE_SG_NAME = "javascript:alert(document.domain)//{{7*7}}"

COMPANY = "acme-jp"
PRIVATE_CIDR = "10.0.0.0/8"
PRIVATE_CIDR_V6 = "fd00::/8"
ANYWHERE = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"


@dataclass(frozen=True)
class PlantContext:
    clients: EstateClients
    regions: tuple[str, ...]
    scale: int

    @property
    def account_id(self) -> str:
        return self.clients.account_id

    @property
    def primary(self) -> str:
        """The "home" region: global things (trails, Config, Security Hub) live here."""
        return self.regions[0]

    def client(self, service: str, region: str) -> Any:
        return self.clients.client(service, region)


def region_code(region: str) -> str:
    """``ap-northeast-1`` -> ``apn1``, ``us-east-1`` -> ``use1`` (for S3 bucket names)."""
    parts = region.split("-")
    return parts[0] + "".join(part[0] for part in parts[1:-1]) + parts[-1]


def suffix(index: int, scale: int) -> str:
    """Empty for a scale-1 estate (clean demo names), ``-007`` style otherwise."""
    return "" if scale == 1 else f"-{index + 1:03d}"


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


def ec2_tags(resource_type: str, name: str, **pairs: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": tags(Name=name, **pairs)}]


def policy_json(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def error_code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))
