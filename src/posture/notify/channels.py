"""What each kind of channel needs, validated when it is added and again before a delivery.

Secrets are referenced by the name of an environment variable and read only when a
message is sent: the SMTP password, the Slack and Teams webhook URLs (their path is the
credential) and the HMAC key of a generic webhook never reach the store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from posture.errors import ConfigurationError

KINDS = ("email", "slack", "teams", "webhook")
MODES = ("immediate", "digest")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def _env_name(value: str) -> str:
    if value and not ENV_NAME.match(value):
        raise ValueError(f"'{value}' is not an environment variable name")
    return value


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # base URL of the console; a message links a finding as <link_base>/findings/<id>
    link_base: str = ""
    timeout: float = Field(default=10.0, gt=0, le=120)

    @field_validator("link_base")
    @classmethod
    def _check_link(cls, value: str) -> str:
        return _url(value).rstrip("/") if value else value


class EmailSettings(_Settings):
    host: str = Field(min_length=1)
    port: int = Field(default=587, gt=0, lt=65536)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    sender: str
    recipients: list[str] = Field(min_length=1)
    username: str = ""
    password_env: str = ""

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        if not ADDRESS.match(value):
            raise ValueError(f"'{value}' is not an e-mail address")
        return value

    @field_validator("recipients")
    @classmethod
    def _check_recipients(cls, value: list[str]) -> list[str]:
        for address in value:
            if not ADDRESS.match(address):
                raise ValueError(f"'{address}' is not an e-mail address")
        return value

    @field_validator("password_env")
    @classmethod
    def _check_env(cls, value: str) -> str:
        return _env_name(value)


class ChatSettings(_Settings):
    """Slack and Microsoft Teams: the webhook URL itself is the secret."""

    url_env: str = Field(min_length=1)

    @field_validator("url_env")
    @classmethod
    def _check_env(cls, value: str) -> str:
        return _env_name(value)


class WebhookSettings(_Settings):
    url: str
    secret_env: str = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _url(value)

    @field_validator("secret_env")
    @classmethod
    def _check_env(cls, value: str) -> str:
        return _env_name(value)


Settings = EmailSettings | ChatSettings | WebhookSettings
MODELS: dict[str, type[_Settings]] = {
    "email": EmailSettings,
    "slack": ChatSettings,
    "teams": ChatSettings,
    "webhook": WebhookSettings,
}


def parse_settings(kind: str, raw: Mapping[str, Any], channel: str = "") -> Settings:
    """The settings of a ``kind`` of channel; a bad one names the field and the channel."""
    model = MODELS.get(kind)
    if model is None:
        raise ConfigurationError(
            f"unknown channel kind '{kind}'", hint=f"use one of: {', '.join(KINDS)}"
        )
    try:
        settings = model.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or kind
        where = f" of channel '{channel}'" if channel else ""
        raise ConfigurationError(
            f"invalid {kind} setting '{field}'{where}: {first['msg']}"
        ) from exc
    assert isinstance(settings, EmailSettings | ChatSettings | WebhookSettings)
    return settings


@dataclass(frozen=True)
class ChannelSpec:
    """A channel as the transport needs it: plain values, no database row."""

    id: str
    name: str
    kind: str
    settings: Settings
    min_severity: str
    mode: str
    retries: int
    backoff_seconds: float
