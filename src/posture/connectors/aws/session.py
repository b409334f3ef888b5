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
from botocore.parsers import ResponseParserError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from posture.connectors.aws.endpoint import endpoint_problem, validate_endpoint_url
from posture.connectors.aws.failures import sign_in_failure

DEFAULT_MAX_ATTEMPTS = 8
# signing in is one cheap call: a dead endpoint must fail in seconds, not after a minute of
# adaptive back-off; the collection calls keep the connection's full retry budget
SIGN_IN_MAX_ATTEMPTS = 3
SIGN_IN_CONNECT_TIMEOUT = 5
SIGN_IN_READ_TIMEOUT = 20
# what botocore raises when the endpoint is wrong, unreachable or not an AWS API
_SIGN_IN_ERRORS = (
    botocore.exceptions.BotoCoreError,
    botocore.exceptions.ClientError,
    ResponseParserError,
    KeyError,
    ValueError,
)
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
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1, le=20)

    @field_validator("endpoint_url")
    @classmethod
    def _usable_endpoint(cls, value: str | None) -> str | None:
        """Refuse a malformed URL wherever settings are built, not at the first API call."""
        problem = endpoint_problem(value) if value is not None else None
        if problem:
            raise PydanticCustomError("endpoint_url", "{problem}", {"problem": problem})
        return value


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


def open_target(connection: str, settings: AwsSettings) -> AwsTarget:
    """Authenticate, resolve the account id and the regions to scan.

    Raises ``ConnectionFailure`` (``CredentialError`` for credential problems) naming the
    connection and the endpoint, with a reason code, so one bad connection never stops a
    scan of the others.
    """
    endpoint = settings.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    if endpoint and not settings.endpoint_url:
        validate_endpoint_url(endpoint, connection=connection, source="AWS_ENDPOINT_URL")
    config = Config(
        retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
        max_pool_connections=32,
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra="posture",
    )
    sign_in = config.merge(
        Config(
            retries={
                "mode": "standard",
                "max_attempts": min(settings.max_attempts, SIGN_IN_MAX_ATTEMPTS),
            },
            connect_timeout=SIGN_IN_CONNECT_TIMEOUT,
            read_timeout=SIGN_IN_READ_TIMEOUT,
        )
    )
    try:
        session = boto3.session.Session(profile_name=settings.profile)
        home = session.region_name or "us-east-1"
        if settings.role_arn:
            session = _assume_role(session, settings, home, endpoint, sign_in)
        sts = session.client("sts", region_name=home, endpoint_url=endpoint, config=sign_in)
        account_id = str(sts.get_caller_identity()["Account"])
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
            target.regions = _enabled_regions(target, sign_in)
    except _SIGN_IN_ERRORS as exc:
        raise sign_in_failure(connection, endpoint, exc, profile=settings.profile) from exc
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


def _enabled_regions(target: AwsTarget, config: Config) -> list[str]:
    ec2 = target.session.client(
        "ec2", region_name=target.home_region, endpoint_url=target.endpoint_url, config=config
    )
    regions = ec2.describe_regions(AllRegions=False)["Regions"]
    return sorted(
        r["RegionName"]
        for r in regions
        if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
    )
