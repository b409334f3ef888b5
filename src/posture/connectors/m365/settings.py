"""The settings of an M365 connection: ids and references to credentials, never a secret."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from posture.connectors.aws.endpoint import endpoint_problem
from posture.connectors.dns import DnsSettings
from posture.connectors.settings import parse_settings as validate_settings
from posture.errors import ConfigurationError, ConnectionReason, CredentialError

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
DEFAULT_MAX_ATTEMPTS = 6
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def _check_variable(value: str | None) -> str | None:
    if value is not None and not _VARIABLE.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name; give the variable's name, "
            "never the secret itself"
        )
    return value


class M365WriteSettings(BaseModel):
    """The app registration setting repair signs in as: distinct from the scanning one, with
    the ReadWrite application permissions its fixes list; the tenant, authority, Graph URL
    and CA bundle are the connection's."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret_env: str | None = None
    certificate: str | None = None

    @field_validator("client_secret_env")
    @classmethod
    def _variable(cls, value: str | None) -> str | None:
        return _check_variable(value)

    @model_validator(mode="after")
    def _one_credential(self) -> M365WriteSettings:
        if bool(self.client_secret_env) == bool(self.certificate):
            raise ValueError(
                "give the write app exactly one credential: client_secret_env (an environment "
                "variable name) or certificate (a PEM file path)"
            )
        return self


class M365Settings(DnsSettings):
    """The ``settings`` of an M365 connection as stored and as typed on the CLI."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(min_length=1)  # the directory (tenant) id or a verified domain
    client_id: str = Field(min_length=1)  # the application (client) id
    client_secret_env: str | None = None  # name of the environment variable holding the secret
    certificate: str | None = None  # path of a PEM file with the private key and certificate
    authority: str = DEFAULT_AUTHORITY
    graph_url: str = DEFAULT_GRAPH_URL
    ca_bundle: str | None = None  # PEM trusted for both the token endpoint and Graph
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1, le=10)
    batch: bool = True  # per-item detail calls go out in JSON batches of 20
    # the credentials of setting repair, distinct from the scanning ones; never used by a scan
    write: M365WriteSettings | None = None

    @field_validator("authority", "graph_url")
    @classmethod
    def _url(cls, value: str) -> str:
        problem = endpoint_problem(value.rstrip("/"))
        if problem:
            raise ValueError(problem)
        return value.rstrip("/")

    @field_validator("client_secret_env")
    @classmethod
    def _variable(cls, value: str | None) -> str | None:
        return _check_variable(value)

    @field_validator("authority")
    @classmethod
    def _https(cls, value: str) -> str:
        if urlsplit(value).scheme != "https":
            raise ValueError(f"authority {value!r} must use https (Entra ID sign-in is TLS only)")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> M365Settings:
        if bool(self.client_secret_env) == bool(self.certificate):
            raise ValueError(
                "give exactly one credential: client_secret_env (an environment variable name) "
                "or certificate (a PEM file path)"
            )
        return self

    @property
    def graph_host(self) -> str:
        return urlsplit(self.graph_url).hostname or ""

    @property
    def custom_authority(self) -> bool:
        return self.authority != DEFAULT_AUTHORITY

    def base_url(self, version: str) -> str:
        return f"{self.graph_url}/{version}"

    def scope(self) -> str:
        return f"{self.graph_url}/.default"


def parse_settings(connection: str, settings: dict[str, Any]) -> M365Settings:
    return validate_settings(M365Settings, connection, settings)


def write_settings(settings: M365Settings) -> M365Settings:
    """The connection's settings signing in as its write app (the scanning app's replaced)."""
    assert settings.write is not None
    write = settings.write
    return settings.model_copy(
        update={
            "client_id": write.client_id,
            "client_secret_env": write.client_secret_env,
            "certificate": write.certificate,
            "write": None,
        }
    )


def make_credential(connection: str, settings: M365Settings) -> Any:
    """An azure-identity credential for app-only Graph access, built from references."""
    from azure.identity import CertificateCredential, ClientSecretCredential

    options: dict[str, Any] = {"authority": settings.authority}
    if settings.custom_authority:
        options["disable_instance_discovery"] = True
    if settings.ca_bundle:
        if not Path(settings.ca_bundle).is_file():
            raise ConfigurationError(
                f"connection '{connection}': CA bundle '{settings.ca_bundle}' does not exist"
            )
        options["connection_verify"] = settings.ca_bundle
    if settings.client_secret_env:
        secret = os.environ.get(settings.client_secret_env)
        if not secret:
            raise CredentialError(
                f"connection '{connection}': the environment variable "
                f"'{settings.client_secret_env}' holding the client secret is not set",
                reason=ConnectionReason.CREDENTIALS_MISSING,
                connection=connection,
            )
        return ClientSecretCredential(settings.tenant_id, settings.client_id, secret, **options)
    assert settings.certificate is not None
    if not Path(settings.certificate).is_file():
        raise CredentialError(
            f"connection '{connection}': certificate file '{settings.certificate}' does not exist",
            reason=ConnectionReason.CREDENTIALS_MISSING,
            connection=connection,
        )
    return CertificateCredential(
        settings.tenant_id, settings.client_id, certificate_path=settings.certificate, **options
    )
