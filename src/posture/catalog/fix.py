"""The fix file: how one setting of one resource type is read, changed, verified and restored.

A fix is declarative (``read`` / ``desired`` / ``apply`` / ``restore`` steps naming client
calls, their arguments templated from the resource, the before-state and the after-state)
or names a ``handler`` registered in ``posture.remediate`` for logic a template cannot
express. ``manual: true`` marks a setting the provider's API cannot write: the plan then
shows the policy's recommendation instead of a change.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from posture.catalog.policy import LocalizedText

FIX_ID = re.compile(r"^[a-z0-9]+(\.[a-z0-9_]+){2,}$")
CALL = re.compile(r"^[a-z0-9_\-]+\.[a-z][a-z0-9_]*$")
RISKS = ("low", "medium", "high")
Risk = Literal["low", "medium", "high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixCall(_Strict):
    """One client call: ``service.operation`` (AWS: the boto3 client and method)."""

    call: str
    args: dict[str, Any] = Field(default_factory=dict)
    # a Jinja2 expression over resource, data, before, after: the step runs only when true
    when: str | None = None
    region: str | None = None  # template; the resource's region by default

    @field_validator("call")
    @classmethod
    def _call_shape(cls, value: str) -> str:
        if not CALL.match(value):
            raise ValueError(
                f"a call is '<service>.<operation>' in lower case, e.g. "
                f"'s3.put_public_access_block', got {value!r}"
            )
        return value

    @property
    def service(self) -> str:
        return self.call.split(".", 1)[0]

    @property
    def operation(self) -> str:
        return self.call.split(".", 1)[1]


class FixRead(FixCall):
    """The call that reads the state the fix changes; ``pick`` is a dotted path into the
    answer (integers index lists); an error code in ``absent_on`` means "not set" (null)."""

    pick: str | None = None
    absent_on: list[str] = Field(default_factory=list)


class Fix(_Strict):
    """A validated fix definition."""

    id: str
    provider: str
    resource_type: str
    resolves: list[str] = Field(min_length=1)
    risk: Risk
    title: LocalizedText
    effect: LocalizedText
    side_effects: LocalizedText
    permissions: list[str] = Field(default_factory=list)
    manual: bool = False
    handler: str | None = None
    # parameters handed to a handler (e.g. the ports it closes)
    params: dict[str, Any] = Field(default_factory=dict)
    read: FixRead | None = None
    desired: Any = None  # the after-state: a template over resource, data and before
    apply: list[FixCall] = Field(default_factory=list)
    restore: list[FixCall] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)

    _source: str = PrivateAttr(default="")

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not FIX_ID.match(value):
            raise ValueError(
                "fix id must look like '<provider>.<service>.<name>' in lower case, "
                f"e.g. 'aws.s3.block_public_access', got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Fix:
        if self.id.split(".", 1)[0] != self.provider:
            raise ValueError(f"fix id '{self.id}' must start with its provider '{self.provider}'")
        if not self.resource_type.startswith(self.provider + "."):
            raise ValueError(
                f"resource_type '{self.resource_type}' is not of provider '{self.provider}'"
            )
        declarative = self.read is not None or self.apply or self.restore
        if self.manual:
            if self.handler or declarative:
                raise ValueError("a manual fix has no handler, read, apply or restore steps")
            return self
        if self.handler and declarative:
            raise ValueError("give either 'handler' or read/desired/apply/restore steps, not both")
        if not self.handler:
            missing = [
                name
                for name, value in (
                    ("read", self.read),
                    ("desired", self.desired),
                    ("apply", self.apply),
                    ("restore", self.restore),
                )
                if value is None or value == []
            ]
            if missing:
                raise ValueError(
                    f"a declarative fix needs {', '.join(missing)} (or a 'handler', or "
                    "'manual: true')"
                )
        if not self.permissions:
            raise ValueError("list the 'permissions' the fix's calls need")
        return self

    @property
    def source(self) -> str:
        return self._source

    def with_source(self, path: str) -> Fix:
        self._source = path
        return self
