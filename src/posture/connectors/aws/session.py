"""Credentials and endpoints of an AWS connection.

A connection holds a *reference* to credentials, never a secret: the default provider
chain, a named profile, and optionally a role to assume (with external id, the usual
set-up for a managed security provider reading a customer's account).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config
from botocore.parsers import ResponseParserError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from posture.connectors.aws.endpoint import endpoint_problem, validate_endpoint_url
from posture.connectors.aws.failures import sign_in_failure

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_MAX_CONCURRENT_ACCOUNTS = 4
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_OU_ID = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
# IAM role names may carry a path (``security/PostureScan``); characters as IAM allows them
_ORGANIZATION_ONLY = ("member_role_name", "include_accounts", "exclude_accounts", "exclude_ous")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]+(/[\w+=,.@-]+)*$")
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


class AwsWriteSettings(BaseModel):
    """How setting repair signs in: a profile and/or a role assumed through STS."""

    model_config = ConfigDict(extra="forbid")

    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = "posture-fix"

    @model_validator(mode="after")
    def _some_credential(self) -> AwsWriteSettings:
        if not self.profile and not self.role_arn:
            raise ValueError("write credentials need a role_arn or a profile")
        return self


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
    # an organisation: the credentials (and role_arn) sign in to the management account or
    # a delegated administrator; each member account is read through member_role_name
    organization: bool = False
    member_role_name: str | None = None
    include_accounts: list[str] = Field(default_factory=list)  # empty: every active account
    exclude_accounts: list[str] = Field(default_factory=list)
    exclude_ous: list[str] = Field(default_factory=list)  # accounts anywhere below these OUs
    max_concurrent_accounts: int = Field(DEFAULT_MAX_CONCURRENT_ACCOUNTS, ge=1, le=32)
    # the credentials of setting repair, distinct from the scanning ones; never used by a scan
    write: AwsWriteSettings | None = None

    @field_validator("include_accounts", "exclude_accounts")
    @classmethod
    def _account_ids(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _ACCOUNT_ID.match(v)]
        if bad:
            raise ValueError(f"'{bad[0]}' is not a 12-digit AWS account id")
        return value

    @field_validator("exclude_ous")
    @classmethod
    def _ou_ids(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _OU_ID.match(v)]
        if bad:
            raise ValueError(f"'{bad[0]}' is not an organizational unit id (ou-xxxx-xxxxxxxx)")
        return value

    @field_validator("member_role_name")
    @classmethod
    def _role_name(cls, value: str | None) -> str | None:
        if value is not None and (not _ROLE_NAME.match(value) or len(value) > 512):
            raise ValueError(f"'{value}' is not an IAM role name (optionally with a path)")
        return value

    @model_validator(mode="after")
    def _organization_options(self) -> AwsSettings:
        """Organisation options only make sense together; say which one is missing."""
        if self.organization and not self.member_role_name:
            raise ValueError("an organization connection needs member_role_name")
        if not self.organization:
            extra = [name for name in _ORGANIZATION_ONLY if getattr(self, name)]
            if extra:
                raise ValueError(f"{extra[0]} is only used by an organization connection")
        return self

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
    # boto3 sessions are not thread-safe while they create clients; an organisation reads
    # the signed-in account from several threads (its own types and the organisation's)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def client(self, service: str, region: str, config: Config | None = None) -> Any:
        with self._lock:
            return self.session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                config=config or self.config,
            )


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def client_configs(settings: AwsSettings) -> tuple[Config, Config]:
    """The collection calls' configuration and the shorter one of the sign-in calls."""
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
    return config, sign_in


def open_target(connection: str, settings: AwsSettings) -> AwsTarget:
    """Authenticate, resolve the account id and the regions to scan.

    Raises ``ConnectionFailure`` (``CredentialError`` for credential problems) naming the
    connection and the endpoint, with a reason code, so one bad connection never stops a
    scan of the others.
    """
    endpoint = settings.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    if endpoint and not settings.endpoint_url:
        validate_endpoint_url(endpoint, connection=connection, source="AWS_ENDPOINT_URL")
    config, sign_in = client_configs(settings)
    try:
        session = boto3.session.Session(profile_name=settings.profile)
        home = session.region_name or "us-east-1"
        if settings.role_arn:
            session = assume_role(
                session,
                settings.role_arn,
                settings.external_id,
                settings.role_session_name,
                home,
                endpoint,
                sign_in,
            )
        sts = session.client("sts", region_name=home, endpoint_url=endpoint, config=sign_in)
        account_id = str(sts.get_caller_identity()["Account"])
        target = AwsTarget(
            connection=connection,
            session=session,
            account_id=account_id,
            partition=partition_of(home),
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


def member_target(
    signed_in: AwsTarget, account_id: str, role_arn: str, settings: AwsSettings
) -> AwsTarget:
    """A member account of an organisation, read through ``role_arn`` assumed from
    ``signed_in`` (the management or delegated administrator account).

    botocore's errors propagate: the caller makes them that account's failure.
    """
    config, sign_in = client_configs(settings)
    session = _assume(
        signed_in.client("sts", signed_in.home_region, sign_in),
        role_arn,
        settings.external_id,
        settings.role_session_name,
        signed_in.home_region,
    )
    target = AwsTarget(
        connection=signed_in.connection,
        session=session,
        account_id=account_id,
        partition=signed_in.partition,
        home_region=signed_in.home_region,
        regions=list(settings.regions),
        endpoint_url=signed_in.endpoint_url,
        config=config,
    )
    if not target.regions:
        target.regions = _enabled_regions(target, sign_in)
    return target


def assume_role(
    base: boto3.session.Session,
    role_arn: str,
    external_id: str | None,
    session_name: str,
    region: str,
    endpoint: str | None,
    config: Config,
) -> boto3.session.Session:
    sts = base.client("sts", region_name=region, endpoint_url=endpoint, config=config)
    return _assume(sts, role_arn, external_id, session_name, region)


def _assume(
    sts: Any, role_arn: str, external_id: str | None, session_name: str, region: str
) -> boto3.session.Session:
    kwargs: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": 3600,
    }
    if external_id:
        kwargs["ExternalId"] = external_id
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
