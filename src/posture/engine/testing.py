"""Run the pass/fail cases a policy carries in its own file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from posture.engine.conditions import EvalContext
from posture.engine.evaluate import evaluate_policy

# a fixed default clock keeps age-based cases reproducible; a case may set its own `now`
DEFAULT_TEST_NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

if TYPE_CHECKING:
    from posture.catalog.policy import Policy


@dataclass(frozen=True)
class CaseOutcome:
    policy_id: str
    case: str
    expected: str
    actual: str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def run_policy_tests(policy: Policy) -> list[CaseOutcome]:
    outcomes = []
    for case in policy.tests:
        now = case.now or DEFAULT_TEST_NOW
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        status = evaluate_policy(policy, case.resource, EvalContext(now=now))
        actual = "not_applicable" if status is None else status.value
        outcomes.append(CaseOutcome(policy.id, case.name, case.expect, actual))
    return outcomes
