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
