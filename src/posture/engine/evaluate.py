"""Evaluate compiled policies over an inventory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from posture.engine.conditions import EvalContext
from posture.models import Evidence, Resource, Result, Status

if TYPE_CHECKING:
    from posture.catalog.policy import Policy


def evaluate_policy(policy: Policy, document: dict[str, object], ctx: EvalContext) -> Status | None:
    """Status of one policy on one resource document; None when it does not apply."""
    status, _ = _evaluate(policy, document, ctx)
    return status


def _evaluate(
    policy: Policy, document: dict[str, object], ctx: EvalContext
) -> tuple[Status | None, list[Evidence]]:
    scope = policy.scope_check
    if scope is not None:
        applies, _ = scope(document, ctx, "")
        if not applies:
            return None, []
    holds, evidence = policy.check(document, ctx, "")
    return (Status.PASS if holds else Status.FAIL), evidence


def evaluate(
    policies: Iterable[Policy],
    resources: Iterable[Resource],
    *,
    now: datetime | None = None,
    failed_scopes: Mapping[tuple[str, str], str] | None = None,
) -> list[Result]:
    """Results of every policy on every resource of its type.

    ``failed_scopes`` maps (resource type, region) whose collection failed to the reason:
    each policy on that type yields one ERROR result per such scope instead of a (false)
    pass, and no resource of a failed scope is evaluated.
    """
    ctx = EvalContext(now=now or datetime.now(UTC))
    failed = dict(failed_scopes or {})
    failed_by_type: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (rtype, region), reason in failed.items():
        failed_by_type[rtype].append((region, reason))
    by_type: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        if (resource.type, resource.region) not in failed:
            by_type[resource.type].append(resource)
    results: list[Result] = []
    for policy in policies:
        for region, reason in failed_by_type.get(policy.resource, ()):
            results.append(Result(policy.id, policy.resource, "", region, Status.ERROR, (), reason))
        for resource in by_type.get(policy.resource, ()):
            status, evidence = _evaluate(policy, resource.data, ctx)
            if status is None:
                continue
            results.append(
                Result(
                    policy.id,
                    resource.type,
                    resource.uid,
                    resource.region,
                    status,
                    tuple(evidence) if status is Status.FAIL else (),
                )
            )
    return results
