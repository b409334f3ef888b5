"""Plain values handed from one stage to the next: resources, evidence, results.

Hot loops use these dataclasses; pydantic models live at the file and database boundaries.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more serious; used for sorting and ``--fail-on``."""
        return _SEVERITY_RANK[self]

    @classmethod
    def ordered(cls) -> list[Severity]:
        return sorted(cls, key=lambda s: -s.rank)


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Status(enum.StrEnum):
    """Outcome of one policy on one resource in one scan."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"  # ``applies_when`` does not hold (or a licence lacks it)
    ERROR = "error"  # the data the policy needs could not be collected
    UNKNOWN = "unknown"  # a fact posture cannot see by design; never resolves a finding


@dataclass(frozen=True)
class Evidence:
    """Why a clause held or failed: the field, its actual value and what was expected."""

    path: str
    op: str
    expected: Any
    actual: Any
    negated: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "op": self.op, "expected": self.expected, "actual": self.actual}
        if self.negated:
            out["negated"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(
            path=str(data.get("path", "")),
            op=str(data.get("op", "")),
            expected=data.get("expected"),
            actual=data.get("actual"),
            negated=bool(data.get("negated", False)),
        )


@dataclass(frozen=True)
class DetailFailure:
    """A detail call that failed for one resource: the key it fills could not be read.

    The rest of the document was collected; only policies that read ``detail`` give
    ``error`` (naming ``call`` and ``permission``), the others judge the resource.
    """

    detail: str  # the document key the detail fills
    call: str  # the operation that failed, e.g. ``s3:GetBucketEncryption``
    code: str  # the provider's error code (``AccessDenied``)
    message: str
    permission: str = ""  # what to grant, where the provider names it

    def describe(self) -> str:
        """One line for a result's reason and the connection's health."""
        text = f"could not read {self.detail}: {self.call} failed ({self.code})"
        if self.permission:
            text += f", missing permission {self.permission}"
        return text

    def as_dict(self) -> dict[str, str]:
        return {
            "detail": self.detail,
            "call": self.call,
            "code": self.code,
            "message": self.message,
            "permission": self.permission,
        }


#: Document key under which a detail's ``unknown_on`` answer is recorded:
#: ``{"_unknown": {"bucket_logging": "AccessDenied"}}``; a policy's ``unknown_when`` reads it.
UNKNOWN_KEY = "_unknown"


@dataclass
class Resource:
    """One collected object of a connection, as the policies see it."""

    type: str
    uid: str
    region: str
    name: str
    data: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    account: str = ""
    # document keys whose detail call failed for this resource (not stored with the content)
    failed: dict[str, DetailFailure] = field(default_factory=dict)

    def content_hash(self) -> str:
        """Stable hash of everything that describes the resource; equal across scans if unchanged."""
        payload = json.dumps(
            [self.type, self.uid, self.region, self.name, self.tags, self.data],
            sort_keys=True,
            default=str,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Result:
    """One policy evaluated on one resource."""

    policy_id: str
    resource_type: str
    resource_uid: str
    region: str
    status: Status
    evidence: tuple[Evidence, ...] = ()
    reason: str = ""  # why not applicable, or which call and permission failed
    statement: Mapping[str, str] | None = None  # the finding sentence per language (failures)
    commands: tuple[str, ...] = ()  # the recommendation's commands, filled for this resource
