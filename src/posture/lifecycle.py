"""Finding lifecycle: turn one scan's results into new, still-open, reopened and resolved.

The rule that matters most: a finding is resolved only when its policy ran in this scan, the
scope of its resource (type and region) was collected successfully and the policy judged the
resource. Missing data never resolves anything: an ``error`` result (a detail the policy reads
failed) or an ``unknown`` one (a fact posture cannot see) leaves the finding as it was, and
neither opens one.

Every state change is also written as a ``FindingEvent`` in the same transaction, so the
history (what was open at the end of a month, how long fixes took) can be rebuilt exactly.
Waivers decide between ``open`` and ``waived`` for a failing finding; a waiver that expired
or was revoked returns its findings to ``open`` (``waiver_lapsed`` / ``unwaived``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from posture.catalog.policy import Policy
from posture.models import Resource, Result, Status
from posture.store.tables import Finding, FindingEvent, Waiver
from posture.waivers import covers, in_force

# event kinds, and the state a finding is in after each
STATE_AFTER = {
    "opened": "open",
    "reopened": "open",
    "resolved": "resolved",
    "waived": "waived",
    "waiver_lapsed": "open",
    "unwaived": "open",
}
EVENT_KINDS = tuple(STATE_AFTER)
# reason codes (translated by the message catalogs, ``event_reason.<code>``)
FAILS = "fails"
FAILS_AGAIN = "fails_again"
NO_LONGER_FAILS = "no_longer_fails"
RESOURCE_DELETED = "resource_deleted"
FIXED = "fixed"  # resolved by a verified fix run
WAIVER = "waiver"
WAIVER_EXPIRED = "waiver_expired"
WAIVER_REVOKED = "waiver_revoked"
OUT_OF_SCOPE = "out_of_scope"


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
    waived: int = 0  # findings a waiver covers from this scan on
    lapsed: int = 0  # findings back to open because their waiver expired or was revoked


@dataclass
class EventLog:
    """State changes gathered during one transaction, written together by ``write``."""

    tenant_id: str
    scan_id: str
    now: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, finding: Finding, kind: str, reason: str, waiver_id: str = "") -> None:
        self.rows.append(
            {
                "finding_id": finding.id,
                "tenant_id": self.tenant_id,
                "scan_id": self.scan_id,
                "at": self.now,
                "kind": kind,
                "reason": reason,
                "severity": finding.severity,
                "waiver_id": waiver_id,
            }
        )

    def count(self, *kinds: str) -> int:
        return sum(1 for row in self.rows if row["kind"] in kinds)

    def write(self, session: Session) -> None:
        if not self.rows:
            return
        session.flush()  # new findings first: events refer to them
        for i in range(0, len(self.rows), 2000):
            session.execute(insert(FindingEvent), self.rows[i : i + 2000])
        self.rows = []


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
    held: Container[str] = frozenset(),
    fixed: Container[str] = frozenset(),
) -> ReconcileStats:
    """Apply ``results`` to the stored findings of one connection (inside the caller's transaction).

    ``evaluated(resource_type, region)`` says whether that scope was collected successfully
    in this scan; ``policies`` are the policies that ran; ``held`` are resource uids whose
    account could not be read in this scan (a member account of an organisation), so their
    findings stay as they were. ``fixed`` are finding ids a fix run just changed: when they
    resolve, their event's reason is ``fixed``.
    """
    stats = ReconcileStats()
    log = EventLog(tenant_id, scan_id, now)
    existing = {
        f.id: f
        for f in session.exec(
            select(Finding).where(
                Finding.tenant_id == tenant_id, Finding.connection_id == connection_id
            )
        )
    }
    failing: set[str] = set()
    # judged neither way: a detail the policy reads failed, or the fact cannot be seen
    unjudged: set[str] = set()
    for result in results:
        if result.status in (Status.ERROR, Status.UNKNOWN) and result.resource_uid:
            unjudged.add(finding_id(tenant_id, result.policy_id, result.resource_uid))
            continue
        if result.status is not Status.FAIL:
            continue
        fid = finding_id(tenant_id, result.policy_id, result.resource_uid)
        failing.add(fid)
        policy = policies[result.policy_id]
        resource = resources.get(result.resource_uid)
        finding = existing.get(fid)
        finding_severity = policy.severity.value
        if finding is None:
            finding = Finding(
                id=fid,
                tenant_id=tenant_id,
                connection_id=connection_id,
                policy_id=result.policy_id,
                resource_type=result.resource_type,
                resource_uid=result.resource_uid,
                first_seen=now,
                severity=finding_severity,
            )
            existing[fid] = finding
            stats.new += 1
            stats.new_ids.append(fid)
            log.add(finding, "opened", FAILS)
        elif finding.state == "resolved":
            finding.reopened += 1
            finding.severity = finding_severity
            stats.reopened += 1
            stats.reopened_ids.append(fid)
            log.add(finding, "reopened", FAILS_AGAIN)
        else:
            stats.still_open += 1
        if finding.state == "resolved":
            finding.state = "open"  # a waived finding stays waived: the waivers decide below
        finding.resolved_at = None
        finding.last_seen = now
        finding.last_scan_id = scan_id
        finding.severity = finding_severity
        finding.region = result.region
        finding.resource_name = resource.name if resource else finding.resource_name
        finding.tags = dict(resource.tags) if resource else finding.tags
        finding.evidence = [e.as_dict() for e in result.evidence]
        finding.statement = dict(result.statement or {})
        finding.commands = list(result.commands)
        session.add(finding)
    for fid, finding in existing.items():
        if fid in failing or finding.state == "resolved":
            continue
        if (
            fid in unjudged
            or finding.policy_id not in policies
            or finding.resource_uid in held
            or not evaluated(finding.resource_type, finding.region)
        ):
            stats.untouched += 1
            continue
        gone = finding.resource_uid not in resources
        finding.state = "resolved"
        finding.resolved_at = now
        finding.last_scan_id = scan_id
        finding.waiver_id = ""
        session.add(finding)
        stats.resolved += 1
        reason = RESOURCE_DELETED if gone else FIXED if fid in fixed else NO_LONGER_FAILS
        log.add(finding, "resolved", reason)
    # waivers are decided for every unresolved finding, also those whose scope failed:
    # a lapsed waiver must not keep hiding a finding because a collection failed
    apply_waivers(session, existing.values(), load_waivers(session, tenant_id), log)
    stats.waived = log.count("waived")
    stats.lapsed = log.count("waiver_lapsed", "unwaived")
    log.write(session)
    return stats


def load_waivers(session: Session, tenant_id: str) -> list[Waiver]:
    """Every waiver of a tenant, the longest-lasting first (the one a finding is put under)."""
    return list(
        session.exec(
            select(Waiver)
            .where(Waiver.tenant_id == tenant_id)
            .order_by(col(Waiver.expires_at).desc(), col(Waiver.id))
        )
    )


def apply_waivers(
    session: Session, findings: Iterable[Finding], waivers: Sequence[Waiver], log: EventLog
) -> None:
    """Put unresolved ``findings`` under the waiver in force that covers them, or take them out.

    A waived finding whose waiver no longer applies returns to open: ``waiver_lapsed`` when it
    expired, ``unwaived`` when it was revoked or no longer covers the finding. Changes are
    added to ``log``; the caller writes it.
    """
    active = [w for w in waivers if in_force(w, log.now)]
    by_id = {w.id: w for w in waivers}
    for finding in findings:
        if finding.state not in ("open", "waived"):
            continue
        waiver = next(
            (
                w
                for w in active
                if covers(
                    w,
                    policy_id=finding.policy_id,
                    resource_uid=finding.resource_uid,
                    tags=finding.tags or {},
                    connection_id=finding.connection_id,
                )
            ),
            None,
        )
        if waiver is not None:
            if finding.state == "waived" and finding.waiver_id == waiver.id:
                continue
            finding.state, finding.waiver_id = "waived", waiver.id
            log.add(finding, "waived", WAIVER, waiver.id)
        elif finding.state == "waived":
            previous = by_id.get(finding.waiver_id)
            if (
                previous is not None
                and previous.revoked_at is None
                and not in_force(previous, log.now)
            ):
                log.add(finding, "waiver_lapsed", WAIVER_EXPIRED, previous.id)
            else:
                revoked = previous is None or previous.revoked_at is not None
                reason = WAIVER_REVOKED if revoked else OUT_OF_SCOPE
                log.add(finding, "unwaived", reason, finding.waiver_id)
            finding.state, finding.waiver_id = "open", ""
        else:
            continue
        session.add(finding)


def open_counts(session: Session, tenant_id: str) -> dict[str, int]:
    """Open findings of a tenant per severity (inside the caller's transaction)."""
    rows = session.exec(
        select(Finding.severity, func.count())
        .where(Finding.tenant_id == tenant_id, Finding.state == "open")
        .group_by(Finding.severity)
    )
    return {severity: int(count) for severity, count in rows}
