"""Run the pass/fail cases a policy carries in its own file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from posture.engine.conditions import EvalContext
from posture.engine.evaluate import judge

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
    # (language, expected sentence, rendered sentence) where they differ
    statement_mismatches: tuple[tuple[str, str, str], ...] = ()
    rendered: tuple[tuple[str, str], ...] = ()  # (language, sentence) of a failing case

    @property
    def ok(self) -> bool:
        return self.expected == self.actual and not self.statement_mismatches

    def explain(self) -> str:
        lines = []
        if self.expected != self.actual:
            lines.append(f"expected {self.expected}, got {self.actual}")
        for lang, want, got in self.statement_mismatches:
            lines.append(f"statement [{lang}] expected: {want}")
            lines.append(f"statement [{lang}] rendered: {got}")
        return "\n".join(lines)


def run_policy_tests(policy: Policy) -> list[CaseOutcome]:
    outcomes = []
    for case in policy.tests:
        now = case.now or DEFAULT_TEST_NOW
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        identity = case.identity
        verdict = judge(
            policy,
            case.resource,
            EvalContext(now=now),
            {
                "name": identity.name,
                "uid": identity.uid or identity.name,
                "region": identity.region,
                "account": identity.account,
                "type": policy.resource,
            },
        )
        mismatches: list[tuple[str, str, str]] = []
        if case.statement is not None and verdict.statement is not None:
            for lang in ("en", "ja"):
                want, got = case.statement.get(lang), verdict.statement.get(lang, "")
                if want != got:
                    mismatches.append((lang, want, got))
        outcomes.append(
            CaseOutcome(
                policy.id,
                case.name,
                case.expect,
                verdict.status.value,
                tuple(mismatches),
                tuple(sorted((verdict.statement or {}).items())),
            )
        )
    return outcomes
