"""The policy file: one check over one resource type, with its own pass/fail cases."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from posture.catalog.japanese import check_japanese
from posture.engine.conditions import Check, ConditionError, compile_condition
from posture.models import Severity

POLICY_ID = re.compile(r"^[a-z0-9]+(\.[a-z0-9_]+){2,}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedText(_Strict):
    """Every customer-facing string exists in English and Japanese."""

    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)

    @field_validator("ja")
    @classmethod
    def _japanese_spacing(cls, value: str) -> str:
        """Refused at load, so a wrapped YAML line never becomes a gap in a report."""
        return check_japanese(value)

    def get(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


class PolicyTestCase(_Strict):
    name: str = Field(min_length=1)
    expect: Literal["pass", "fail", "not_applicable"]
    resource: dict[str, Any]
    now: datetime | None = None


class ConditionInvalid(ValueError):
    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


class Policy(_Strict):
    """A validated policy; ``check`` and ``scope_check`` are compiled once at load."""

    id: str
    resource: str
    severity: Severity
    title: LocalizedText
    description: LocalizedText | None = None
    rationale: LocalizedText
    recommendation: LocalizedText
    applies_when: dict[str, Any] | None = None
    condition: dict[str, Any]
    remediation: str | None = None
    frameworks: dict[str, list[str]] = Field(default_factory=dict)
    references: list[str] = Field(default_factory=list)
    tests: list[PolicyTestCase] = Field(min_length=2)

    _check: Check = PrivateAttr()
    _scope: Check | None = PrivateAttr(default=None)
    _source: str = PrivateAttr(default="")

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not POLICY_ID.match(value):
            raise ValueError(
                "policy id must look like '<provider>.<service>.<name>' in lower case, "
                f"e.g. 'aws.s3.bucket_block_public_access', got {value!r}"
            )
        return value

    @field_validator("tests")
    @classmethod
    def _pass_and_fail(cls, value: list[PolicyTestCase]) -> list[PolicyTestCase]:
        kinds = {case.expect for case in value}
        if not {"pass", "fail"} <= kinds:
            raise ValueError(
                "needs at least one case with 'expect: pass' and one with 'expect: fail'"
            )
        return value

    @model_validator(mode="after")
    def _compile(self) -> Policy:
        try:
            self._check = compile_condition(self.condition, ("condition",))
            if self.applies_when is not None:
                self._scope = compile_condition(self.applies_when, ("applies_when",))
        except ConditionError as exc:
            # carried to the loader, which turns it into file:line
            raise ConditionInvalid(str(exc), exc.loc) from None
        return self

    @property
    def check(self) -> Check:
        return self._check

    @property
    def scope_check(self) -> Check | None:
        return self._scope

    @property
    def source(self) -> str:
        """File the policy was loaded from."""
        return self._source

    def with_source(self, path: str) -> Policy:
        self._source = path
        return self

    @property
    def provider(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def service(self) -> str:
        return self.id.split(".")[1]
