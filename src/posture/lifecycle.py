"""Finding lifecycle: turn one scan's results into new, still-open, reopened and resolved.

The rule that matters most: a finding is resolved only when its policy ran in this scan and
the scope of its resource (type and region) was collected successfully. Missing data never
resolves anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, func, select

from posture.catalog.policy import Policy
from posture.models import Resource, Result, Status
from posture.store.tables import Finding


def finding_id(tenant_id: str, policy_id: str, resource_uid: str) -> str:
    """Stable identity of a finding: tenant + policy id + resource uid."""
    raw = "\x1f".join((tenant_id, policy_id, resource_uid)).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass
class ReconcileStats:
    new: int = 0
    reopened: int = 0
    still_open: int = 0
    resolved: int = 0
    untouched: int = 0  # open findings left alone because their scope was not evaluated
    # ids of the findings this scan opened or reopened (what notifications announce)
    new_ids: list[str] = field(default_factory=list)
    reopened_ids: list[str] = field(default_factory=list)


ScopeCheck = Callable[[str, str], bool]


def reconcile(
    session: Session,
    *,
    tenant_id: str,
    connection_id: str,
    scan_id: str,
    now: datetime,
    results: Iterable[Result],
    policies: Mapping[str, Policy],
    resources: Mapping[str, Resource],
    evaluated: ScopeCheck,
) -> ReconcileStats:
    """Apply ``results`` to the stored findings of one connection (inside the caller's transaction).

    ``evaluated(resource_type, region)`` says whether that scope was collected successfully
    in this scan; ``policies`` are the policies that ran.
    """
    stats = ReconcileStats()
    existing = {
        f.id: f
        for f in session.exec(
            select(Finding).where(
                Finding.tenant_id == tenant_id, Finding.connection_id == connection_id
            )
        )
    }
    failing: set[str] = set()
    for result in results:
        if result.status is not Status.FAIL:
            continue
        fid = finding_id(tenant_id, result.policy_id, result.resource_uid)
        failing.add(fid)
        policy = policies[result.policy_id]
        resource = resources.get(result.resource_uid)
        finding = existing.get(fid)
        if finding is None:
            finding = Finding(
                id=fid,
                tenant_id=tenant_id,
                connection_id=connection_id,
                policy_id=result.policy_id,
                resource_type=result.resource_type,
                resource_uid=result.resource_uid,
                first_seen=now,
                severity=policy.severity.value,
            )
            existing[fid] = finding
            stats.new += 1
            stats.new_ids.append(fid)
        elif finding.state != "open":
            finding.reopened += 1
            stats.reopened += 1
            stats.reopened_ids.append(fid)
        else:
            stats.still_open += 1
        finding.state = "open"
        finding.resolved_at = None
        finding.last_seen = now
        finding.last_scan_id = scan_id
        finding.severity = policy.severity.value
        finding.region = result.region
        finding.resource_name = resource.name if resource else finding.resource_name
        finding.evidence = [e.as_dict() for e in result.evidence]
        finding.statement = dict(result.statement or {})
        finding.commands = list(result.commands)
        session.add(finding)
    for fid, finding in existing.items():
        if fid in failing or finding.state != "open":
            continue
        if finding.policy_id not in policies or not evaluated(
            finding.resource_type, finding.region
        ):
            stats.untouched += 1
            continue
        finding.state = "resolved"
        finding.resolved_at = now
        finding.last_scan_id = scan_id
        session.add(finding)
        stats.resolved += 1
    return stats


def open_counts(session: Session, tenant_id: str) -> dict[str, int]:
    """Open findings of a tenant per severity (inside the caller's transaction)."""
    rows = session.exec(
        select(Finding.severity, func.count())
        .where(Finding.tenant_id == tenant_id, Finding.state == "open")
        .group_by(Finding.severity)
    )
    return {severity: int(count) for severity, count in rows}
