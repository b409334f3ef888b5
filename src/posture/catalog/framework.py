"""Compliance frameworks: control lists; the mappings live on the policies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from posture.catalog.policy import LocalizedText


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    section: str = ""
    level: str = ""
    automated: bool | None = None


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: LocalizedText
    provider: str
    version: str
    url: str = ""
    controls: list[Control]

    def control_ids(self) -> set[str]:
        return {c.id for c in self.controls}
