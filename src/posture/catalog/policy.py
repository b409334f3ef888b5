"""The policy file: one check over one resource type, with its own pass/fail cases."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from posture.engine.conditions import (
    WHOLE_DOCUMENT,
    Check,
    ConditionError,
    compile_condition,
    read_keys,
)
from posture.engine.statement import TemplateError, check_template, reads_whole_document
from posture.japanese import check_japanese
from posture.models import Severity

POLICY_ID = re.compile(r"^[a-z0-9]+(\.[a-z0-9_]+){2,}$")
# stand-ins a reader would have to replace by hand: <user-name>, <ユーザー名>, sg-0123456789abcdef0
PLACEHOLDER = re.compile(
    r"<[A-Za-z_\-]+(?:[ _\-][A-Za-z]+)*>|<[^<>\s]*[\u3040-\u30ff\u4e00-\u9fff][^<>\s]*>"
    r"|\b[a-z]+-0123456789abcdef0?\b|\b(?:TRAIL|BUCKET|USER|GROUP|ROLE|KEY_ID|REGION)\b"
)


def _recommendation_texts(policy: Policy) -> list[tuple[tuple[str | int, ...], str]]:
    texts: list[tuple[tuple[str | int, ...], str]] = [
        (("recommendation", "en"), policy.recommendation.en),
        (("recommendation", "ja"), policy.recommendation.ja),
    ]
    texts += [(("commands", i), text) for i, text in enumerate(policy.commands)]
    return texts


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


class CaseIdentity(_Strict):
    """How the resource of a test case is named; statements may read ``resource.*``."""

    name: str = "example"
    uid: str = ""
    region: str = "ap-northeast-1"
    account: str = "123456789012"


class PolicyTestCase(_Strict):
    name: str = Field(min_length=1)
    expect: Literal["pass", "fail", "not_applicable", "unknown"]
    resource: dict[str, Any]
    now: datetime | None = None
    identity: CaseIdentity = Field(default_factory=CaseIdentity)
    # the finding sentence the policy must render for this resource (every failing case)
    statement: LocalizedText | None = None

    @model_validator(mode="after")
    def _statement_on_failures(self) -> PolicyTestCase:
        if self.expect not in ("fail", "unknown") and self.statement is not None:
            raise ValueError(f"case '{self.name}' does not fail, so it renders no statement")
        return self


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
    # the finding sentence: names the resource and the values that decided (a template)
    statement: LocalizedText
    # commands of the recommendation, filled with the affected resource's identifiers
    commands: list[str] = Field(default_factory=list)
    applies_when: dict[str, Any] | None = None
    # a fact posture cannot see by design (a bucket in another account): checked after
    # applies_when; when it holds the result is ``unknown`` with ``unknown_reason``
    unknown_when: dict[str, Any] | None = None
    unknown_reason: LocalizedText | None = None  # templates, like the statement
    condition: dict[str, Any]
    remediation: str | None = None
    frameworks: dict[str, list[str]] = Field(default_factory=dict)
    references: list[str] = Field(default_factory=list)
    tests: list[PolicyTestCase] = Field(min_length=2)

    _check: Check = PrivateAttr()
    _scope: Check | None = PrivateAttr(default=None)
    _unknown: Check | None = PrivateAttr(default=None)
    _reads: frozenset[str] = PrivateAttr(default=frozenset())
    _source: str = PrivateAttr(default="")
    _fields: frozenset[str] = PrivateAttr(default=frozenset())

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
            if self.unknown_when is not None:
                self._unknown = compile_condition(self.unknown_when, ("unknown_when",))
        except ConditionError as exc:
            # carried to the loader, which turns it into file:line
            raise ConditionInvalid(str(exc), exc.loc) from None
        self._check_unknown_clause()
        fields: set[str] = set()
        templates: list[tuple[tuple[str | int, ...], str]] = [
            (("statement", "en"), self.statement.en),
            (("statement", "ja"), self.statement.ja),
        ]
        for index, case in enumerate(self.tests):
            if case.expect == "fail" and case.statement is None:
                raise ConditionInvalid(
                    f"case '{case.name}' expects fail: give the 'statement' (en and ja) "
                    "it must render",
                    ("tests", index),
                )
            if case.expect == "unknown" and case.statement is None:
                raise ConditionInvalid(
                    f"case '{case.name}' expects unknown: give as 'statement' the "
                    "unknown_reason (en and ja) it must render",
                    ("tests", index),
                )
        templates += [(("commands", i), text) for i, text in enumerate(self.commands)]
        if self.unknown_reason is not None:
            templates += [
                (("unknown_reason", "en"), self.unknown_reason.en),
                (("unknown_reason", "ja"), self.unknown_reason.ja),
            ]
        for loc, text in templates:
            try:
                fields |= check_template(text)
            except TemplateError as exc:
                raise ConditionInvalid(str(exc), loc) from None
        reads = set(fields)
        for clause in (self.condition, self.applies_when, self.unknown_when):
            reads |= read_keys(clause)
        if any(reads_whole_document(text) for _, text in templates):
            reads.add(WHOLE_DOCUMENT)
        self._reads = frozenset(reads)
        for loc, text in _recommendation_texts(self):
            found = PLACEHOLDER.search(text)
            if found:
                raise ConditionInvalid(
                    f"'{found.group(0)}' is a placeholder; put commands in 'commands' as "
                    "templates filled with the resource's identifiers (e.g. {{ GroupId }})",
                    loc,
                )
        self._fields = frozenset(fields)
        return self

    def _check_unknown_clause(self) -> None:
        """``unknown_when`` and ``unknown_reason`` come together, with a case that shows it."""
        if self.unknown_when is not None and self.unknown_reason is None:
            raise ConditionInvalid(
                "'unknown_when' needs an 'unknown_reason' (en and ja) saying what posture "
                "cannot see",
                ("unknown_when",),
            )
        if self.unknown_reason is not None and self.unknown_when is None:
            raise ConditionInvalid(
                "'unknown_reason' is given without an 'unknown_when' condition",
                ("unknown_reason",),
            )
        kinds = {case.expect for case in self.tests}
        if self.unknown_when is not None and "unknown" not in kinds:
            raise ConditionInvalid(
                "a policy with 'unknown_when' needs at least one case with 'expect: unknown'",
                ("tests",),
            )
        if self.unknown_when is None and "unknown" in kinds:
            index = next(i for i, c in enumerate(self.tests) if c.expect == "unknown")
            raise ConditionInvalid(
                "'expect: unknown' needs an 'unknown_when' condition on the policy",
                ("tests", index, "expect"),
            )

    @property
    def reads(self) -> frozenset[str]:
        """Top-level document keys the policy reads (conditions and templates); ``*`` is all.

        A resource whose detail under one of these keys failed gives ``error`` for this
        policy; the policies that read other keys still judge it.
        """
        return self._reads

    @property
    def unknown_check(self) -> Check | None:
        return self._unknown

    @property
    def template_fields(self) -> frozenset[str]:
        """Top-level resource fields read by the statement and the commands."""
        return self._fields

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
