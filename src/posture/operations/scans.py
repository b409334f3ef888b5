"""Scans: run one for a tenant, list the history, show one, find one by an id prefix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from posture.connectors.inventory import ScopeFailure, TypeStats
from posture.errors import ConfigurationError, PostureError, UsageError
from posture.operations.access import require, visible
from posture.operations.audit import record
from posture.operations.context import Operations
from posture.operations.filters import PolicySelector
from posture.operations.notifications import notify_scan
from posture.operations.tenants import get_tenant, resolve_tenant, session_scope
from posture.scan import ProgressFactory, ScanOutcome, run_scan
from posture.store import Connection, Scan, ScanTarget, Tenant

SHOWN_CANDIDATES = 5


@dataclass(frozen=True)
class ScanSummary:
    """One scan of the history, with the open findings it left behind."""

    id: str
    tenant: str
    status: str  # running | succeeded | partial | failed | interrupted
    started_at: datetime
    finished_at: datetime | None
    policies: int
    resources: int
    api_calls: int
    open_by_severity: dict[str, int]
    message: str

    @property
    def open_findings(self) -> int:
        return sum(self.open_by_severity.values())

    @classmethod
    def of(cls, scan: Scan, tenant: str) -> ScanSummary:
        return cls(
            id=scan.id,
            tenant=tenant,
            status=scan.status,
            started_at=scan.started_at,
            finished_at=scan.finished_at,
            policies=scan.policies,
            resources=scan.resources,
            api_calls=scan.api_calls,
            open_by_severity=dict(scan.summary.get("open_by_severity", {})),
            message=scan.message,
        )


@dataclass(frozen=True)
class TargetDetail:
    """One connection in one scan: its outcome and collection statistics per type."""

    connection: str
    provider: str
    status: str  # succeeded | partial | failed
    message: str
    resources: int
    api_calls: int
    types: list[TypeStats] = field(default_factory=list)
    failures: list[ScopeFailure] = field(default_factory=list)
    reason: str = ""  # why a failed connection failed (endpoint_unreachable, ...)


@dataclass(frozen=True)
class ScanDetail:
    scan: ScanSummary
    targets: list[TargetDetail]


def tenants_to_scan(ops: Operations, tenant: str | None) -> list[str]:
    """The named tenant, or every tenant."""
    with ops.session() as session:
        if tenant:
            ten = get_tenant(session, tenant)
            require(ops, "scan.run", ten.id)
            return [ten.slug]
        require(ops, "scan.run")
        rows = session.exec(select(Tenant.slug, Tenant.id).order_by(col(Tenant.slug)))
        return [slug for slug, tenant_id in rows if visible(ops, tenant_id)]


def scan_tenant(
    ops: Operations,
    tenant: str,
    *,
    connections: Sequence[str] = (),
    policies: Sequence[str] = (),
    progress: ProgressFactory | None = None,
    notify: bool = True,
    now: datetime | None = None,
    on_start: Callable[[str], None] | None = None,
) -> ScanOutcome:
    """Collect, evaluate and reconcile every (or the named) connection of a tenant.

    ``policies`` are exact ids, id prefixes or globs; one that selects nothing is an
    error rather than a scan that silently checks nothing. Once the scan is recorded, its
    new and reopened findings are notified to the tenant's channels (unless ``notify`` is
    off); a notification that cannot be sent is recorded as failed, never fails the scan.
    ``now`` dates the scan (a replay or a test of a past month); by default the clock.
    ``on_start`` receives the scan id once the scan is recorded as running.
    """
    catalog = ops.catalog()
    selector = PolicySelector.of(policies)
    policy_ids: list[str] | None = None
    if selector:
        selector.check_known(catalog.policies)
        policy_ids = sorted(p for p in catalog.policies if selector.matches(p))
    with ops.session() as session:
        ten = get_tenant(session, tenant)
        require(ops, "scan.run", ten.id)
        slug = ten.slug
    asked: dict[str, Any] = {"connections": list(connections), "policies": list(policies)}
    try:
        outcome = run_scan(
            ops.store(),
            catalog,
            slug,
            connections=list(connections) or None,
            policy_ids=policy_ids,
            progress=progress,
            now=now,
            on_start=on_start,
        )
    except PostureError as exc:  # refused before it started (e.g. no such connection)
        record(ops, "scan.run", tenant=slug, details={**asked, "error": exc.message})
        raise
    targets = {t.connection: t.status for t in outcome.targets}
    details = {**asked, "status": outcome.status, "targets": targets}
    details |= {"seconds": round(outcome.seconds, 3), "open_by_severity": outcome.open_by_severity}
    record(ops, "scan.run", tenant=slug, target=outcome.scan_id, details=details)
    if notify:
        notify_scan(ops, outcome)
    return outcome


def list_scans(ops: Operations, tenant: str | None = None, limit: int = 20) -> list[ScanSummary]:
    """The most recent scans of a tenant, newest first."""
    if limit < 1:
        raise UsageError("the number of scans to list must be at least 1")
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        scans = session.exec(
            select(Scan)
            .where(Scan.tenant_id == ten.id)
            .order_by(col(Scan.started_at).desc())
            .limit(limit)
        )
        return [ScanSummary.of(s, ten.slug) for s in scans]


def find_scan(session: Session, scan_id: str, tenant_id: str | None = None) -> Scan:
    """The scan whose id is or starts with ``scan_id`` (of one tenant, if given)."""
    prefix = scan_id.strip().lower()
    if not prefix:
        raise UsageError("a scan id (or the start of one) is required")
    query = select(Scan).where(col(Scan.id).startswith(prefix, autoescape=True))
    if tenant_id is not None:
        query = query.where(Scan.tenant_id == tenant_id)
    scope = session_scope(session)
    if scope is not None:
        query = query.where(col(Scan.tenant_id).in_(scope))
    matches = list(
        session.exec(query.order_by(col(Scan.started_at).desc()).limit(SHOWN_CANDIDATES + 1))
    )
    exact = [s for s in matches if s.id == prefix]
    if exact:
        return exact[0]
    if not matches:
        raise ConfigurationError(
            f"no scan with id '{scan_id}'", hint="list scans with: posture scans list"
        )
    if len(matches) > 1:
        shown = ", ".join(
            f"{s.id} ({s.started_at:%Y-%m-%d %H:%M})" for s in matches[:SHOWN_CANDIDATES]
        )
        more = ", ..." if len(matches) > SHOWN_CANDIDATES else ""
        raise UsageError(
            f"scan id '{scan_id}' is ambiguous; it starts {shown}{more}",
            hint="give more characters of the id",
        )
    return matches[0]


def resolve_scan_id(ops: Operations, scan_id: str, tenant: str | None = None) -> str:
    """The full id of the scan named by a unique prefix."""
    with ops.session() as session:
        tenant_id = get_tenant(session, tenant).id if tenant else None
        scan = find_scan(session, scan_id, tenant_id)
        require(ops, "finding.read", scan.tenant_id)
        return scan.id


def show_scan(ops: Operations, scan_id: str, tenant: str | None = None) -> ScanDetail:
    """A scan with, per connection, what was collected and what failed."""
    with ops.session() as session:
        tenant_id = get_tenant(session, tenant).id if tenant else None
        scan = find_scan(session, scan_id, tenant_id)
        require(ops, "finding.read", scan.tenant_id)
        owner = session.get(Tenant, scan.tenant_id)
        rows = session.exec(
            select(ScanTarget, Connection)
            .join(Connection, col(ScanTarget.connection_id) == col(Connection.id))
            .where(ScanTarget.scan_id == scan.id)
            .order_by(col(Connection.name))
        )
        targets = [_target(t, c) for t, c in rows]
        return ScanDetail(ScanSummary.of(scan, owner.slug if owner else ""), targets)


def _target(target: ScanTarget, conn: Connection) -> TargetDetail:
    stats: dict[str, Any] = target.stats or {}
    return TargetDetail(
        connection=conn.name,
        provider=conn.provider,
        status=target.status,
        message=target.message,
        reason=str(target.stats.get("reason_code", "")),
        resources=target.resources,
        api_calls=target.api_calls,
        types=[
            TypeStats(
                resource_type=rtype,
                calls=int(s.get("calls", 0)),
                errors=int(s.get("errors", 0)),
                throttles=int(s.get("throttles", 0)),
                resources=int(s.get("resources", 0)),
                seconds=float(s.get("seconds", 0.0)),
            )
            for rtype, s in stats.get("types", {}).items()
        ],
        failures=[
            ScopeFailure(
                resource_type=str(f.get("resource_type", "")),
                region=str(f.get("region", "")),
                message=str(f.get("message", "")),
                code=str(f.get("code", "")),
                permission=str(f.get("permission", "")),
            )
            for f in stats.get("failures", [])
        ],
    )
