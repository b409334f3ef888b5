"""The report's history: the 12-month trend, the period's changes, waivers.

``report_history`` is the one place the report reads history from. Today it derives the
figures from what the store keeps on each finding (first seen, resolved at, reopen count,
state) and on each scan (open findings by severity, result counts); a finding reopened
after being resolved counts as open from its first sighting. A store that records every
state change as an event answers the same questions exactly: only this function changes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from posture.report.model import History, MonthTrend, PeriodCounts, Text, WaiverLine
from posture.store.tables import Finding, FindingEvent, Scan, Tenant, Waiver

MONTHS = 12
_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class _Row:
    severity: str
    first_seen: datetime
    resolved_at: datetime | None
    reopened: int
    last_seen: datetime


def _month_start(year: int, month: int, tz: tzinfo) -> datetime:
    """The 1st of ``month`` (any integer: 0 is December of the year before, 13 January after)."""
    year, index = divmod(year * 12 + month - 1, 12)
    return datetime(year, index + 1, 1, tzinfo=tz)


def _score(summary: dict[str, Any]) -> float | None:
    """Share of passing checks among passing and failing ones at a scan."""
    results = summary.get("results") or {}
    passed, failed = int(results.get("pass", 0)), int(results.get("fail", 0))
    return 100.0 * passed / (passed + failed) if passed + failed else None


#: ``read_month_history(session, tenant, period, months=N)`` of the operations layer, which
#: the report is handed (it does not import upward): the month as the finding events
#: recorded it.
HistoryReader = Callable[..., Any]


def read_recorded(
    session: Session,
    tenant: Tenant,
    period_start: datetime,
    period_end: datetime,
    tz: tzinfo,
    reader: HistoryReader | None,
) -> Any:
    """The month as the finding events recorded it (the reader's ``MonthHistory``, read once
    per report), or None when there is no reader or the store kept no events yet."""
    from posture.report.period import Period

    if reader is None:
        return None
    has_events = session.exec(
        select(FindingEvent.id).where(FindingEvent.tenant_id == tenant.id).limit(1)
    ).first()
    if has_events is None:
        return None
    local = period_start.astimezone(tz)
    span = Period(period_start, period_end, f"{local.year:04d}-{local.month:02d}")
    return reader(session, tenant, span, months=MONTHS)


def report_history(
    session: Session,
    tenant: Tenant,
    period_start: datetime,
    period_end: datetime,
    tz: tzinfo,
    recorded: Any = None,
) -> History:
    """Trend over the 12 months ending with the period, and the period's changes."""
    local = period_start.astimezone(tz)
    bounds = [
        (
            _month_start(local.year, local.month - back, tz),
            _month_start(local.year, local.month - back + 1, tz),
        )
        for back in range(MONTHS - 1, -1, -1)
    ]
    scans = list(
        session.exec(
            select(Scan)
            .where(
                Scan.tenant_id == tenant.id,
                col(Scan.started_at) >= bounds[0][0],
                col(Scan.started_at) < period_end,
                col(Scan.finished_at).is_not(None),
                Scan.status != "failed",
            )
            .order_by(col(Scan.started_at))
        )
    )
    rows = [
        _Row(sev, first, resolved, reopened or 0, last)
        for sev, first, resolved, reopened, last in session.execute(
            select_columns(
                col(Finding.severity),
                col(Finding.first_seen),
                col(Finding.resolved_at),
                col(Finding.reopened),
                col(Finding.last_seen),
            ).where(col(Finding.tenant_id) == tenant.id, col(Finding.first_seen) < period_end)
        )
    ]
    # one pass over the findings: the month each was opened and resolved in (or none)
    ends = [end for _, end in bounds]
    n = len(bounds)
    opened_in: list[Counter[str]] = [Counter() for _ in range(n + 1)]
    resolved_in: list[Counter[str]] = [Counter() for _ in range(n + 1)]
    window_start = bounds[0][0]
    early_opened = early_resolved = 0  # before the window: open at its start, not new in it
    for r in rows:
        opened_in[bisect_right(ends, r.first_seen)][r.severity] += 1
        early_opened += r.first_seen < window_start
        if r.resolved_at is not None:
            resolved_in[bisect_right(ends, r.resolved_at)][r.severity] += 1
            early_resolved += r.resolved_at < window_start
    months: list[MonthTrend] = []
    open_now: Counter[str] = Counter()
    for i, (start, end) in enumerate(bounds):
        # open at the end of month i: opened in or before it, not resolved by its end
        open_now.update(opened_in[i])
        open_now.subtract(resolved_in[i])
        in_month = [s for s in scans if start <= s.started_at < end]
        if not in_month:
            continue
        months.append(
            MonthTrend(
                month=f"{start.year:04d}-{start.month:02d}",
                open_by_severity={k: v for k, v in open_now.items() if v > 0},
                new=sum(opened_in[i].values()) - (early_opened if i == 0 else 0),
                resolved=sum(resolved_in[i].values()) - (early_resolved if i == 0 else 0),
                score=_score(in_month[-1].summary),
            )
        )
    if recorded is not None:
        return _recorded(session, tenant, period_end, months, recorded)
    resolved = [
        r for r in rows if r.resolved_at is not None and period_start <= r.resolved_at < period_end
    ]
    durations = [
        (r.resolved_at - r.first_seen).total_seconds() / _SECONDS_PER_DAY
        for r in resolved
        if r.resolved_at is not None
    ]
    counts = PeriodCounts(
        new=sum(1 for r in rows if period_start <= r.first_seen < period_end),
        resolved=len(resolved),
        reopened=sum(
            1
            for r in rows
            if r.reopened
            and r.resolved_at is None
            and period_start <= r.last_seen < period_end
            and r.first_seen < period_start
        ),
        mttr_days=sum(durations) / len(durations) if durations else None,
    )
    # waivers and last month's compliance are not recorded by this store yet: unknown
    return History(months=months, counts=counts, waivers=None, previous_passed=None)


def _recorded(
    session: Session,
    tenant: Tenant,
    period_end: datetime,
    scanned: list[MonthTrend],
    recorded: Any,
) -> History:
    """The period as the finding events and waivers recorded it."""
    from datetime import timedelta

    period_start = recorded.period.start
    scores = {m.month: m.score for m in scanned}
    months = [
        MonthTrend(
            month=point.period.label,
            open_by_severity={k: v for k, v in point.open_by_severity.items() if v > 0},
            new=point.new,
            resolved=point.resolved,
            score=scores.get(point.period.label),
        )
        for point in recorded.trend
        # months with a successful scan, or with findings open or changing in them
        if point.period.label in scores
        or any(point.open_by_severity.values())
        or point.new
        or point.resolved
        or point.reopened
    ]
    mean = recorded.resolve_time.mean
    counts = PeriodCounts(
        new=recorded.counts.new,
        resolved=recorded.counts.resolved,
        reopened=recorded.counts.reopened,
        mttr_days=mean.total_seconds() / _SECONDS_PER_DAY if mean is not None else None,
    )
    waived: Counter[str] = Counter(f.waiver_id for f in recorded.findings if f.waiver_id)
    soon = period_end + timedelta(days=30)
    waivers = [
        WaiverLine(
            policy_id=w.policy,
            title=Text(en=w.policy or "every policy", ja=w.policy or "すべてのポリシー"),
            scope=_scope(w),
            reason=w.reason,
            approved_by=w.approved_by,
            expires_at=w.expires_at,
            findings=waived.get(w.id, 0),
            expiring=w.expires_at < soon,
        )
        for w in session.exec(
            select(Waiver)
            .where(
                Waiver.tenant_id == tenant.id,
                col(Waiver.created_at) < period_end,
                col(Waiver.expires_at) > period_start,
            )
            .order_by(col(Waiver.expires_at))
        )
        if w.revoked_at is None or w.revoked_at > period_end
    ]
    return History(months=months, counts=counts, waivers=waivers, previous_passed=None)


def _scope(waiver: Waiver) -> str:
    parts = []
    if waiver.whole_tenant:
        parts.append("tenant")
    if waiver.resource:
        parts.append(waiver.resource)
    if waiver.tag_key:
        parts.append(f"{waiver.tag_key}={waiver.tag_value}")
    if waiver.connection_id:
        parts.append(f"connection {waiver.connection_id}")
    return ", ".join(parts) or (waiver.policy or "tenant")
