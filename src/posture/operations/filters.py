"""Filters every query shares: severities and policy selectors."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from posture.errors import UsageError
from posture.models import Severity

GLOB_CHARS = frozenset("*?[")


def parse_severity(value: str) -> Severity:
    """A severity name in any case; an unknown one lists the valid names."""
    try:
        return Severity(value.strip().lower())
    except ValueError as exc:
        raise UsageError(
            f"unknown severity '{value}'; use one of {', '.join(s.value for s in Severity.ordered())}"
        ) from exc


def check_choices(option: str, values: Iterable[str], allowed: Sequence[str]) -> list[str]:
    """``values`` unchanged, or a usage error naming the first one not in ``allowed``."""
    out = list(values)
    for value in out:
        if value not in allowed:
            raise UsageError(f"{option} takes one of {', '.join(allowed)}, got '{value}'")
    return out


@dataclass(frozen=True)
class PolicySelector:
    """Policies named by exact id, id prefix (``aws.iam``) or glob (``aws.s3.*encryption*``).

    A prefix matches whole dot-separated parts, so ``aws.s3`` never selects ``aws.s3x.y``.
    """

    patterns: tuple[str, ...] = ()

    @classmethod
    def of(cls, patterns: Iterable[str]) -> PolicySelector:
        cleaned = tuple(p.strip() for p in patterns if p.strip())
        return cls(cleaned)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, policy_id: str) -> bool:
        return not self.patterns or any(_match(p, policy_id) for p in self.patterns)

    def check_known(self, known: Iterable[str]) -> None:
        """Every pattern selects at least one of ``known``: a typo must not look clean."""
        ids = sorted(set(known))
        for pattern in self.patterns:
            if not any(_match(pattern, i) for i in ids):
                close = difflib.get_close_matches(pattern, ids, n=1)
                suggestion = f" (did you mean '{close[0]}'?)" if close else ""
                raise UsageError(
                    f"no policy matches '{pattern}'{suggestion}",
                    hint="give an exact id, an id prefix such as aws.iam, or a glob such as "
                    "'aws.s3.*encryption*'",
                )


def _match(pattern: str, policy_id: str) -> bool:
    if GLOB_CHARS & set(pattern):
        return fnmatch.fnmatchcase(policy_id, pattern)
    return policy_id == pattern or policy_id.startswith(pattern.rstrip(".") + ".")
