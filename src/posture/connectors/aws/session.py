"""Credentials and endpoints of an AWS connection.

A connection holds a *reference* to credentials, never a secret: the default provider
chain, a named profile, and optionally a role to assume (with external id, the usual
set-up for a managed security provider reading a customer's account).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config
from pydantic import BaseModel, ConfigDict, Field

from posture.errors import CredentialError

DEFAULT_MAX_ATTEMPTS = 8
# (service, boto3 call) made here with the scanning credentials, outside any collection spec,
# so the permission list includes them. AssumeRole is made with the credentials that assume
# the role, not by the role, so it is not among them.
SESSION_CALLS: tuple[tuple[str, str], ...] = (
    ("sts", "get_caller_identity"),  # the account id
    ("ec2", "describe_regions"),  # enabled regions, when a connection names none
)


class AwsSettings(BaseModel):
    """The ``settings`` of an AWS connection as stored and as typed on the CLI."""

    model_config = ConfigDict(extra="forbid")

    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = "posture-scan"
    regions: list[str] = Field(default_factory=list)  # empty: every enabled region
    endpoint_url: str | None = None  # e.g. a local moto_server; AWS_ENDPOINT_URL also works
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


@dataclass
class AwsTarget:
    """An authenticated session plus what the collector needs to know about the account."""

    connection: str
    session: boto3.session.Session
    account_id: str
    partition: str
    home_region: str
    regions: list[str]
    endpoint_url: str | None
    config: Config

    def client(self, service: str, region: str) -> Any:
        return self.session.client(
            service, region_name=region, endpoint_url=self.endpoint_url, config=self.config
        )


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _fail(connection: str, exc: Exception) -> CredentialError:
    detail = str(exc)
    if isinstance(exc, botocore.exceptions.ClientError):
        detail = f"{exc.response.get('Error', {}).get('Code')}: {exc.response.get('Error', {}).get('Message')}"
    return CredentialError(
        f"connection '{connection}': AWS credentials were rejected or are missing ({detail})",
        hint="check the profile, role ARN and external id of the connection "
        "(posture connection check)",
    )


def open_target(connection: str, settings: AwsSettings) -> AwsTarget:
    """Authenticate, resolve the account id and the regions to scan.

    Raises ``CredentialError`` naming the connection when anything about the credentials
    is wrong, so one bad connection never stops a scan of the others.
    """
    endpoint = settings.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    config = Config(
        retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
        max_pool_connections=32,
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra="posture",
    )
    try:
        session = boto3.session.Session(profile_name=settings.profile)
        home = session.region_name or "us-east-1"
        if settings.role_arn:
            session = _assume_role(session, settings, home, endpoint, config)
        sts = session.client("sts", region_name=home, endpoint_url=endpoint, config=config)
        account_id = sts.get_caller_identity()["Account"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise _fail(connection, exc) from exc
    target = AwsTarget(
        connection=connection,
        session=session,
        account_id=account_id,
        partition=_partition(home),
        home_region=home,
        regions=list(settings.regions),
        endpoint_url=endpoint,
        config=config,
    )
    if not target.regions:
        target.regions = _enabled_regions(target)
    return target


def _assume_role(
    base: boto3.session.Session,
    settings: AwsSettings,
    region: str,
    endpoint: str | None,
    config: Config,
) -> boto3.session.Session:
    sts = base.client("sts", region_name=region, endpoint_url=endpoint, config=config)
    kwargs: dict[str, Any] = {
        "RoleArn": settings.role_arn,
        "RoleSessionName": settings.role_session_name,
        "DurationSeconds": 3600,
    }
    if settings.external_id:
        kwargs["ExternalId"] = settings.external_id
    creds = sts.assume_role(**kwargs)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def _enabled_regions(target: AwsTarget) -> list[str]:
    ec2 = target.client("ec2", target.home_region)
    try:
        regions = ec2.describe_regions(AllRegions=False)["Regions"]
    except botocore.exceptions.ClientError as exc:
        raise _fail(target.connection, exc) from exc
    return sorted(
        r["RegionName"]
        for r in regions
        if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
    )
