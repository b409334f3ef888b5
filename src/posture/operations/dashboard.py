"""What a tenant's dashboard shows: score, counts, trend, top fixes and connection health.

Read in one transaction so the tiles agree with each other. The posture score is the share
of passed checks among the checks judged (pass or fail) in the newest scan of each
connection; a tenant never scanned has no score. The connection board names, per
connection, the last successful collection, the scopes that failed in the newest scan and
the permissions those failures name, so an operator knows what to grant.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from posture.models import Severity
from posture.operations.access import require, visible
from posture.operations.context import Operations
from posture.operations.findings import severity_rank
from posture.operations.history import TrendPoint, monthly_trend
from posture.operations.rows import PolicyFacts, Text
from posture.operations.tenants import resolve_tenant
from posture.store import Connection, Finding, ResultRecord, ScanTarget, Tenant, UserAccount

TOP_FIXES = 5
NEW_WITHIN = timedelta(days=7)
SUCCESSFUL = ("succeeded", "partial")


@dataclass(frozen=True)
class TenantView:
    """A tenant as the console heads its pages with it."""

    id: str
    slug: str
    name: str
    locale: str
    timezone: str
    paused: bool
    paused_reason: str
    setting_repair: bool
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScopeProblem:
    resource_type: str
    region: str
    message: str
    permission: str = ""


@dataclass(frozen=True)
class ConnectionHealth:
    name: str
    provider: str
    account: str
    health: str  # never | ok | partial | failed
    message: str
    checked_at: datetime | None
    last_success: datetime | None  # end of the newest collection that succeeded (or partly)
    last_status: str  # status of the newest collection, "" when never collected
    failing: list[ScopeProblem] = field(default_factory=list)
    missing_permissions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TopFix:
    policy_id: str
    severity: str
    title: Text
    recommendation: Text
    findings: int


@dataclass(frozen=True)
class Dashboard:
    tenant: TenantView
    score: int | None  # 0-100, None before the first judged check
    passed: int
    failed: int
    open_by_severity: dict[str, int]  # every severity, most severe first
    waived: int
    new_this_week: int
    trend: list[TrendPoint]
    top_fixes: list[TopFix]
    connections: list[ConnectionHealth]


def tenant_view(tenant: Tenant) -> TenantView:
    repair = tenant.options.get("setting_repair")
    paused_at = getattr(tenant, "paused_at", None)
    return TenantView(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        locale=tenant.locale,
        timezone=tenant.timezone,
        paused=paused_at is not None,
        paused_reason=str(getattr(tenant, "paused_reason", "") or ""),
        setting_repair=isinstance(repair, dict) and repair.get("enabled") is True,
        options=dict(tenant.options),
    )


def show_tenant_view(ops: Operations, slug: str | None) -> TenantView:
    """The tenant a page is about (an unknown or out-of-scope slug is an unknown tenant)."""
    with ops.session() as session:
        ten = resolve_tenant(session, slug)
        require(ops, "tenant.read", ten.id)
        return tenant_view(ten)


def account_locale(ops: Operations, user_id: str) -> str | None:
    """The language a user chose for their account (None: no such user)."""
    with ops.session() as session:
        user = session.get(UserAccount, user_id)
        return user.locale if user is not None else None


def visible_tenants(ops: Operations) -> list[TenantView]:
    """The tenants the acting principal may see, by slug (a customer: its own one)."""
    with ops.session() as session:
        tenants = session.exec(select(Tenant).order_by(col(Tenant.slug)))
        return [tenant_view(t) for t in tenants if visible(ops, t.id)]


def dashboard(ops: Operations, slug: str | None, *, now: datetime | None = None) -> Dashboard:
    moment = now or datetime.now(UTC)
    catalog = ops.catalog()
    with ops.session() as session:
        ten = resolve_tenant(session, slug)
        require(ops, "finding.read", ten.id)
        findings = list(
            session.exec(
                select(Finding).where(
                    Finding.tenant_id == ten.id, col(Finding.state).in_(("open", "waived"))
                )
            )
        )
        connections = [
            _health(session, conn)
            for conn in session.exec(
                select(Connection)
                .where(Connection.tenant_id == ten.id)
                .order_by(col(Connection.name))
            )
        ]
        passed, failed = _judged(session, ten)
        view = tenant_view(ten)
    opened = [f for f in findings if f.state == "open"]
    counts = {s.value: 0 for s in Severity.ordered()}
    for f in opened:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    since = moment - NEW_WITHIN
    new = sum(1 for f in opened if _aware(f.first_seen) >= since)
    judged = passed + failed
    return Dashboard(
        tenant=view,
        score=round(100 * passed / judged) if judged else None,
        passed=passed,
        failed=failed,
        open_by_severity=counts,
        waived=len(findings) - len(opened),
        new_this_week=new,
        trend=monthly_trend(ops, view.slug, months=12),
        top_fixes=_top_fixes(opened, catalog),
        connections=connections,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _top_fixes(opened: list[Finding], catalog: Any) -> list[TopFix]:
    """The policies whose fix closes the most serious findings, then the most of them."""
    per_policy = Counter(f.policy_id for f in opened)
    severity = {f.policy_id: f.severity for f in opened}
    ranked = sorted(per_policy, key=lambda p: (-severity_rank(severity[p]), -per_policy[p], p))
    out = []
    for policy_id in ranked[:TOP_FIXES]:
        facts = PolicyFacts.lookup(catalog, policy_id)
        out.append(
            TopFix(
                policy_id,
                severity[policy_id],
                facts.title,
                facts.recommendation,
                per_policy[policy_id],
            )
        )
    return out


def _judged(session: Session, tenant: Tenant) -> tuple[int, int]:
    """Passes and failures in the newest scan of each connection."""
    newest: dict[str, str] = {}
    targets = session.exec(
        select(ScanTarget)
        .join(Connection, col(ScanTarget.connection_id) == col(Connection.id))
        .where(Connection.tenant_id == tenant.id)
        .order_by(col(ScanTarget.finished_at))
    )
    for target in targets:
        newest[target.connection_id] = target.scan_id
    passed = failed = 0
    for conn_id, scan_id in newest.items():
        rows = session.exec(
            select(ResultRecord.status, func.count())
            .where(
                ResultRecord.tenant_id == tenant.id,
                ResultRecord.scan_id == scan_id,
                ResultRecord.connection_id == conn_id,
                col(ResultRecord.status).in_(("pass", "fail")),
            )
            .group_by(col(ResultRecord.status))
        )
        for status, count in rows:
            if status == "pass":
                passed += int(count)
            else:
                failed += int(count)
    return passed, failed


def _health(session: Session, conn: Connection) -> ConnectionHealth:
    newest = session.exec(
        select(ScanTarget)
        .where(ScanTarget.connection_id == conn.id)
        .order_by(col(ScanTarget.finished_at).desc())
        .limit(1)
    ).first()
    success = session.exec(
        select(func.max(ScanTarget.finished_at)).where(
            ScanTarget.connection_id == conn.id, col(ScanTarget.status).in_(SUCCESSFUL)
        )
    ).first()
    failing: list[ScopeProblem] = []
    if newest is not None:
        for item in (newest.stats or {}).get("failures", []):
            failing.append(
                ScopeProblem(
                    resource_type=str(item.get("resource_type", "")),
                    region=str(item.get("region", "")),
                    message=str(item.get("message", "")),
                    permission=str(item.get("permission", "")),
                )
            )
    permissions = sorted({p.permission for p in failing if p.permission})
    return ConnectionHealth(
        name=conn.name,
        provider=conn.provider,
        account=conn.account,
        health=conn.health,
        message=conn.health_message,
        checked_at=conn.checked_at,
        last_success=success,
        last_status=newest.status if newest is not None else "",
        failing=failing,
        missing_permissions=permissions,
    )
