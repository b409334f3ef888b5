"""Evaluate compiled policies over an inventory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from posture.engine.conditions import WHOLE_DOCUMENT, EvalContext, decisive
from posture.engine.statement import RENDERER
from posture.models import DetailFailure, Evidence, Resource, Result, Status

if TYPE_CHECKING:
    from posture.catalog.policy import Policy


@dataclass(frozen=True)
class Judgement:
    """One policy on one document: status, deciding evidence, and for failures the words."""

    status: Status
    evidence: tuple[Evidence, ...] = ()
    reason: str = ""
    statement: Mapping[str, str] | None = None
    commands: tuple[str, ...] = ()


def judge(
    policy: Policy,
    document: Mapping[str, Any],
    ctx: EvalContext,
    identity: Mapping[str, str],
) -> Judgement:
    """Status of one policy on one resource document, explained."""
    if ctx.root is not document:
        ctx = replace(ctx, root=document)
    scope = policy.scope_check
    if scope is not None:
        applies, why = scope(document, ctx, "")
        if not applies:
            return Judgement(Status.NOT_APPLICABLE, reason=not_applicable_reason(why))
    unknown = policy.unknown_check
    if unknown is not None and policy.unknown_reason is not None:
        unseen, why = unknown(document, ctx, "")
        if unseen:
            texts = {"en": policy.unknown_reason.en, "ja": policy.unknown_reason.ja}
            reason, _ = RENDERER.render_finding(texts, (), document, identity, (), ctx.now)
            return Judgement(Status.UNKNOWN, tuple(decisive(why)), reason.get("en", ""), reason)
    holds, evidence = policy.check(document, ctx, "")
    if holds:
        return Judgement(Status.PASS)
    deciding = tuple(decisive(evidence))
    texts = {"en": policy.statement.en, "ja": policy.statement.ja}
    statement, commands = RENDERER.render_finding(
        texts, policy.commands, document, identity, deciding, ctx.now
    )
    return Judgement(Status.FAIL, deciding, "", statement, commands)


def unreadable(policy: Policy, failed: Mapping[str, DetailFailure]) -> list[DetailFailure]:
    """The failed details of a resource that ``policy`` reads (all of them for ``*``)."""
    reads = policy.reads
    if WHOLE_DOCUMENT in reads:
        return [failed[k] for k in sorted(failed)]
    return [failed[k] for k in sorted(failed) if k in reads]


def not_applicable_reason(evidence: Iterable[Evidence]) -> str:
    """Why ``applies_when`` did not hold, from the leaves that decided it."""
    parts = []
    for item in decisive(list(evidence))[:3]:
        expected = item.expected
        op = f"not {item.op}" if item.negated else item.op
        parts.append(f"{item.path} is {_short(item.actual)} (applies when {op} {_short(expected)})")
    return "; ".join(parts) or "the policy's applies_when does not hold"


def _short(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def evaluate_policy(policy: Policy, document: dict[str, object], ctx: EvalContext) -> Status | None:
    """Status of one policy on one resource document; None when it does not apply."""
    status = judge(policy, document, ctx, {}).status
    return None if status is Status.NOT_APPLICABLE else status


def identity_of(resource: Resource) -> dict[str, str]:
    return {
        "name": resource.name,
        "uid": resource.uid,
        "region": resource.region,
        "account": resource.account,
        "type": resource.type,
    }


def evaluate(
    policies: Iterable[Policy],
    resources: Iterable[Resource],
    *,
    now: datetime | None = None,
    failed_scopes: Mapping[tuple[str, str], str] | None = None,
    not_applicable_scopes: Mapping[tuple[str, str], str] | None = None,
) -> list[Result]:
    """Results of every policy on every resource of its type.

    ``failed_scopes`` maps (resource type, region) whose collection failed to the reason:
    each policy on that type yields one ERROR result per such scope instead of a (false)
    pass, and no resource of a failed scope is evaluated.

    A resource whose ``failed`` details include a key a policy reads gives that policy an
    ERROR result naming the call and the permission; the other policies judge it.

    ``not_applicable_scopes`` maps (resource type, region) the tenant's licence does not
    cover to the reason (e.g. "requires Microsoft Entra ID P2"): each policy on that type
    yields one NOT_APPLICABLE result per such scope, carrying that reason.
    """
    ctx = EvalContext(now=now or datetime.now(UTC))
    failed = dict(failed_scopes or {})
    failed_by_type: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (rtype, region), reason in failed.items():
        failed_by_type[rtype].append((region, reason))
    unlicensed_by_type: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (rtype, region), reason in (not_applicable_scopes or {}).items():
        if (rtype, region) not in failed:
            unlicensed_by_type[rtype].append((region, reason))
            failed[(rtype, region)] = reason  # no resource of the scope is evaluated
    by_type: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        if (resource.type, resource.region) not in failed:
            by_type[resource.type].append(resource)
    results: list[Result] = []
    identities: dict[int, dict[str, str]] = {}
    contexts: dict[int, EvalContext] = {}
    for policy in policies:
        for region, reason in failed_by_type.get(policy.resource, ()):
            results.append(Result(policy.id, policy.resource, "", region, Status.ERROR, (), reason))
        for region, reason in unlicensed_by_type.get(policy.resource, ()):
            results.append(
                Result(policy.id, policy.resource, "", region, Status.NOT_APPLICABLE, (), reason)
            )
        for resource in by_type.get(policy.resource, ()):
            if resource.failed:
                missing = unreadable(policy, resource.failed)
                if missing:
                    results.append(
                        Result(
                            policy.id,
                            resource.type,
                            resource.uid,
                            resource.region,
                            Status.ERROR,
                            (),
                            "; ".join(f.describe() for f in missing),
                        )
                    )
                    continue
            identity = identities.get(id(resource))
            if identity is None:
                identity = identities[id(resource)] = identity_of(resource)
                contexts[id(resource)] = replace(ctx, root=resource.data)
            verdict = judge(policy, resource.data, contexts[id(resource)], identity)
            results.append(
                Result(
                    policy.id,
                    resource.type,
                    resource.uid,
                    resource.region,
                    verdict.status,
                    verdict.evidence,
                    verdict.reason,
                    verdict.statement,
                    verdict.commands,
                )
            )
    return results
