"""Compliance frameworks: control lists; the mappings live on the policies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from posture.catalog.policy import LocalizedText


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: LocalizedText  # reports print the title in the reader's language
    section: str = ""
    level: str = ""
    automated: bool | None = None

    @field_validator("title", mode="before")
    @classmethod
    def _both_languages(cls, value: Any) -> Any:
        """Name the fix when a control file still has an English-only title."""
        if isinstance(value, str):
            raise ValueError("a control title needs both languages: {en: ..., ja: ...}")
        return value


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
