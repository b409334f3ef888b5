"""The ``settings`` of a Google Cloud connection: references, never key material."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from posture.connectors.aws.endpoint import endpoint_problem

DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_CONCURRENCY = 4
# project ids: 6-30 characters, lower-case letters, digits and hyphens, starting with a letter
# (older projects may carry a domain prefix, "example.com:project")
PROJECT_ID = re.compile(r"^(?:[a-z0-9.\-]+:)?[a-z][a-z0-9\-]{4,28}[a-z0-9]$")


class GcpWriteSettings(BaseModel):
    """The service account setting repair signs in as: its own key, never the scanner's."""

    model_config = ConfigDict(extra="forbid")

    key_file: str  # service-account JSON key with the write permissions the fixes list


class GcpSettings(BaseModel):
    """One organisation (its ACTIVE projects) or an explicit list of projects."""

    model_config = ConfigDict(extra="forbid")

    organization_id: str | None = Field(None, pattern=r"^[0-9]{1,30}$")  # numeric, no prefix
    projects: list[str] = Field(default_factory=list)
    key_file: str | None = None  # service-account JSON key; None: application-default
    root_url: str | None = None  # replaces https://www.googleapis.com/ and every API root
    ca_bundle: str | None = None  # PEM file trusted for the token endpoint and the APIs
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1, le=20)
    concurrency: int = Field(DEFAULT_CONCURRENCY, ge=1, le=32)  # projects collected at once
    write: GcpWriteSettings | None = None  # setting repair's credentials

    @field_validator("organization_id", mode="before")
    @classmethod
    def _bare_number(cls, value: object) -> object:
        """``organizations/123`` is accepted and kept as ``123``."""
        if isinstance(value, str):
            return value.strip().removeprefix("organizations/")
        return value

    @field_validator("projects")
    @classmethod
    def _project_ids(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for project in value:
            if not PROJECT_ID.match(project):
                raise PydanticCustomError(
                    "project_id",
                    "'{project}' is not a project id (6-30 lower-case letters, digits and "
                    "hyphens, starting with a letter; the id, not the display name or number)",
                    {"project": project},
                )
            if project not in out:
                out.append(project)
        return out

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

    @model_validator(mode="after")
    def _one_scope(self) -> GcpSettings:
        if bool(self.organization_id) == bool(self.projects):
            raise ValueError("give either an organization id or a list of projects")
        return self

    @property
    def account(self) -> str:
        """What the connection reads, as stored on it: the organisation or the projects."""
        if self.organization_id:
            return f"organizations/{self.organization_id}"
        return ",".join(self.projects)
