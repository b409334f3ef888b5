"""The ``settings`` of a Google Workspace connection: references, never key material."""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from posture.connectors.aws.endpoint import endpoint_problem
from posture.connectors.dns import DnsSettings

DEFAULT_MAX_ATTEMPTS = 6


class GwsSettings(DnsSettings):
    """A Workspace customer reached by a delegated service account acting as ``admin_email``."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = "my_customer"  # "C0123abcd" or the alias my_customer
    admin_email: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")
    key_file: str = Field(min_length=1)  # path of the service account's JSON key
    root_url: str | None = None  # replaces https://www.googleapis.com/ and the API roots
    ca_bundle: str | None = None  # PEM file trusted for the token endpoint and the APIs
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1, le=20)

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
