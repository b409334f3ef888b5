"""Compliance frameworks: control lists; the mappings live on the policies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from posture.catalog.policy import LocalizedText


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: LocalizedText  # reports print the title in the reader's language
    section: str = ""
    level: str = ""
    # the benchmark's own assessment status (CIS "Automated" / "Manual"), as published
    automated: bool | None = None
    # "manual": no API posture reads can answer the control, so coverage counts it as
    # checked by hand rather than as a gap; ``reason`` tells the reader what it needs
    automation: Literal["manual"] | None = None
    reason: LocalizedText | None = None
    # crosswalk: controls of other frameworks that answer this one (framework id -> control
    # ids); a policy mapped to any of them is mapped to this control too, so a catalogue
    # framework such as NIST SP 800-53 follows the benchmarks' policies without editing them
    maps: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("title", mode="before")
    @classmethod
    def _both_languages(cls, value: Any) -> Any:
        """Name the fix when a control file still has an English-only title."""
        if isinstance(value, str):
            raise ValueError("a control title needs both languages: {en: ..., ja: ...}")
        return value

    @model_validator(mode="after")
    def _manual_has_reason(self) -> Control:
        """A manual control says why, in both languages, so a report can tell the reader."""
        if self.automation == "manual" and self.reason is None:
            raise ValueError(
                f"control '{self.id}' is marked 'automation: manual' but has no "
                "'reason: {en: ..., ja: ...}'"
            )
        if self.automation is None and self.reason is not None:
            raise ValueError(
                f"control '{self.id}' has a 'reason' but is not marked 'automation: manual'"
            )
        return self

    @property
    def manual(self) -> bool:
        return self.automation == "manual"


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: LocalizedText
    provider: str
    version: str
    url: str = ""
    controls: list[Control]

    @model_validator(mode="after")
    def _unique_ids(self) -> Framework:
        """A duplicated control id would make mappings and coverage ambiguous."""
        seen: set[str] = set()
        for control in self.controls:
            if control.id in seen:
                raise ValueError(f"control '{control.id}' is listed twice")
            seen.add(control.id)
        return self

    def control_ids(self) -> set[str]:
        return {c.id for c in self.controls}
