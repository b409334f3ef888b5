"""The ``settings`` of a Google Workspace connection: references, never key material."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from posture.connectors.aws.endpoint import endpoint_problem
from posture.connectors.dns import DnsSettings

DEFAULT_MAX_ATTEMPTS = 6


class GwsWriteSettings(BaseModel):
    """The service account setting repair signs in as: its own key and domain-wide
    delegation (with the write scopes its fixes list), acting as ``admin_email`` (the
    connection's administrator when not given)."""

    model_config = ConfigDict(extra="forbid")

    key_file: str = Field(min_length=1)
    admin_email: str | None = Field(None, min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")


class GwsSettings(DnsSettings):
    """A Workspace customer reached by a delegated service account acting as ``admin_email``."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = "my_customer"  # "C0123abcd" or the alias my_customer
    admin_email: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")
    key_file: str = Field(min_length=1)  # path of the service account's JSON key
    root_url: str | None = None  # replaces https://www.googleapis.com/ and the API roots
    ca_bundle: str | None = None  # PEM file trusted for the token endpoint and the APIs
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1, le=20)
    # the credentials of setting repair, distinct from the scanning ones; never used by a scan
    write: GwsWriteSettings | None = None

    @field_validator("root_url")
    @classmethod
    def _usable_root(cls, value: str | None) -> str | None:
        """A malformed URL is refused when the connection is added, not at the first call."""
        if value is None:
            return None
        problem = endpoint_problem(value)
        if problem:
            raise PydanticCustomError("root_url", "{problem}", {"problem": problem})
        return value.rstrip("/") + "/"


def write_settings(settings: GwsSettings) -> GwsSettings:
    """The connection's settings signing in as its write service account."""
    assert settings.write is not None
    write = settings.write
    return settings.model_copy(
        update={
            "key_file": write.key_file,
            "admin_email": write.admin_email or settings.admin_email,
            "write": None,
        }
    )
