"""The rows queries return: one shape for a finding and for a result, so exports match.

Both carry what an analyst needs to act without opening the policy file: the policy's
title and severity, the finding sentence, the framework controls, and the evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from posture.catalog import Catalog, LocalizedText


@dataclass(frozen=True)
class Text:
    """A customer-facing string in both languages; empty where there is nothing to say."""

    en: str = ""
    ja: str = ""

    @classmethod
    def of(cls, value: LocalizedText | Mapping[str, str] | None) -> Text:
        if value is None:
            return cls()
        if isinstance(value, LocalizedText):
            return cls(value.en, value.ja)
        return cls(str(value.get("en", "")), str(value.get("ja", "")))

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "ja": self.ja}


@dataclass(frozen=True)
class PolicyFacts:
    """What the catalog says about a policy id (empty for a policy no longer shipped)."""

    title: Text = field(default_factory=Text)
    severity: str = ""
    frameworks: dict[str, list[str]] = field(default_factory=dict)
    recommendation: Text = field(default_factory=Text)

    @classmethod
    def lookup(cls, catalog: Catalog, policy_id: str) -> PolicyFacts:
        policy = catalog.policies.get(policy_id)
        if policy is None:
            return cls()
        return cls(
            title=Text.of(policy.title),
            severity=policy.severity.value,
            frameworks={fw: list(ids) for fw, ids in policy.frameworks.items()},
            recommendation=Text.of(policy.recommendation),
        )


@dataclass(frozen=True)
class FindingRow:
    """A finding: a policy failing on a resource, across scans (``status`` = its state)."""

    id: str
    policy_id: str
    status: str  # open | waived | resolved
    severity: str
    title: Text
    statement: Text
    commands: list[str]
    recommendation: Text
    resource_uid: str
    resource_name: str
    resource_type: str
    connection: str
    region: str
    frameworks: dict[str, list[str]]
    evidence: list[dict[str, Any]]
    scan_id: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    reason: str = ""
    waiver_id: str = ""  # the waiver a waived finding is under
    # an open finding the newest scan could not judge: "unknown" (a fact posture cannot see)
    # or "error" (its data could not be read); "" when it judged (or the finding is closed)
    judgement: str = ""


@dataclass(frozen=True)
class ResultRow:
    """One policy on one resource in one scan, passes included."""

    policy_id: str
    status: str  # pass | fail | not_applicable | error | unknown
    reason: str
    statement: Text
    resource_uid: str
    resource_name: str
    resource_type: str
    connection: str
    region: str
    frameworks: dict[str, list[str]]
    severity: str
    title: Text
    scan_id: str
    evidence: list[dict[str, Any]]
