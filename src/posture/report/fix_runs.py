"""Setting repair in the monthly report: the fix runs of the period and what they resolved.

A run belongs to the month in which its change was started (``applied_at``) or, for a run
that ended before any change (aborted, failed), in which it ended — in the tenant's time
zone like the rest of the monthly view, so a report of an earlier month shows that month's
runs only. Planned and approved runs have done nothing yet and are left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from posture.catalog import Catalog
from posture.report.model import Text
from posture.store.tables import Connection, Finding, FixRun, Tenant

OUTCOMES = ("verified", "rolled_back", "failed", "aborted")
IN_PROGRESS = ("applying", "applied", "rolling_back")  # counted together as "in progress"


@dataclass(frozen=True)
class FixRunLine:
    """One run as the report shows it; times in the tenant's zone."""

    run_id: str
    fix_id: str
    fix_title: Text
    policy_id: str
    policy_title: Text
    resource_uid: str
    resource_name: str
    region: str
    connection: str
    state: str
    reason: str
    auto: bool
    approved_by: str
    applied_by: str
    applied_at: datetime | None
    finished_at: datetime | None
    before: Any
    after: Any
    finding_id: str
    # the finding the run closed (verified runs only): its sentence, or the policy's title
    resolved: Text | None = None


@dataclass(frozen=True)
class FixRunsReport:
    """``shown``: the tenant has the option ``setting_repair.enabled`` or the period has runs."""

    shown: bool = False
    runs: tuple[FixRunLine, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)  # OUTCOMES and "in_progress"


def repair_enabled(tenant: Tenant) -> bool:
    options = tenant.options if isinstance(tenant.options, dict) else {}
    raw = options.get("setting_repair")
    return isinstance(raw, dict) and raw.get("enabled") is True


def _statement(finding: Finding | None) -> Text | None:
    statement = finding.statement if finding is not None else None
    if not statement or not statement.get("en"):
        return None
    return Text(en=statement["en"], ja=statement.get("ja", statement["en"]))


def read_fix_runs(
    session: Session,
    catalog: Catalog,
    tenant: Tenant,
    period_start: datetime,
    period_end: datetime,
    tz: tzinfo,
) -> FixRunsReport:
    """The tenant's fix runs of [period_start, period_end), in the order they were started."""
    applied, finished = col(FixRun.applied_at), col(FixRun.finished_at)
    rows = list(
        session.exec(
            select(FixRun).where(
                FixRun.tenant_id == tenant.id,
                col(FixRun.state).in_((*OUTCOMES, *IN_PROGRESS)),
                or_(
                    and_(applied >= period_start, applied < period_end),
                    and_(applied.is_(None), finished >= period_start, finished < period_end),
                ),
            )
        )
    )
    rows.sort(key=lambda r: (r.applied_at or r.finished_at or r.planned_at, r.id))
    if not rows and not repair_enabled(tenant):
        return FixRunsReport()
    connections = {
        c.id: c.name
        for c in session.exec(select(Connection).where(Connection.tenant_id == tenant.id))
    }
    finding_ids = sorted({r.finding_id for r in rows})
    findings = {
        f.id: f for f in session.exec(select(Finding).where(col(Finding.id).in_(finding_ids)))
    }
    lines = []
    for run in rows:
        fix = catalog.fixes.get(run.fix_id)
        policy = catalog.policies.get(run.policy_id)
        policy_title = (
            Text(en=policy.title.en, ja=policy.title.ja)
            if policy
            else Text(run.policy_id, run.policy_id)
        )
        resolved = None
        if run.state == "verified":
            resolved = _statement(findings.get(run.finding_id)) or policy_title
        lines.append(
            FixRunLine(
                run_id=run.id,
                fix_id=run.fix_id,
                fix_title=Text(en=fix.title.en, ja=fix.title.ja)
                if fix
                else Text(run.fix_id, run.fix_id),
                policy_id=run.policy_id,
                policy_title=policy_title,
                resource_uid=run.resource_uid,
                resource_name=run.resource_name,
                region=run.region,
                connection=connections.get(run.connection_id, ""),
                state=run.state,
                reason=run.reason,
                auto=run.auto,
                approved_by=run.approved_by,
                applied_by=run.applied_by,
                applied_at=run.applied_at.astimezone(tz) if run.applied_at else None,
                finished_at=run.finished_at.astimezone(tz) if run.finished_at else None,
                before=run.before,
                after=run.after,
                finding_id=run.finding_id,
                resolved=resolved,
            )
        )
    tally = Counter(r.state if r.state in OUTCOMES else "in_progress" for r in rows)
    counts = {key: tally[key] for key in (*OUTCOMES, "in_progress")}
    return FixRunsReport(shown=True, runs=tuple(lines), counts=counts)
