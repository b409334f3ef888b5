"""Finding history: what stood at the end of a period, what changed in it, and trends.

Every figure comes from the append-only finding events (``finding_event``), never from the
findings' current state, so a report for a closed month shows that month as it was, whatever
later scans changed. Periods are months in the tenant's time zone (``posture.report.period``);
"at the end of a period" means just before its exclusive end.

What the report code calls (each opens one read transaction):

- ``findings_at(ops, tenant, period)``: the findings as they stood at the end of the period
  (``FindingState``: status open | waived | resolved, severity, since when).
- ``period_counts(ops, tenant, period)``: new / resolved / reopened / waived / lapsed in it.
- ``time_to_resolve(ops, tenant, period)``: mean time to resolve of the findings resolved in
  it, overall and per severity.
- ``monthly_trend(ops, tenant, until=period, months=12)``: per month end, open findings by
  severity and waived ones, and that month's new / resolved / reopened.
- ``month_history(ops, tenant, period)``: all of the above for one month in one call.
- ``finding_events(ops, finding_id)``: the timeline of one finding, for the analyst.

``period`` is a ``Period`` or ``YYYY-MM``; ``None`` means the current month of the tenant.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from posture.errors import ConfigurationError, UsageError
from posture.lifecycle import STATE_AFTER
from posture.models import Severity
from posture.operations.access import require
from posture.operations.context import Operations
from posture.operations.filters import check_choices
from posture.operations.tenants import in_scope, resolve_tenant
from posture.report.period import Period, month, zone
from posture.store import Connection, Finding, FindingEvent, Tenant

MAX_TREND_MONTHS = 12
STATUSES = ("open", "waived", "resolved")
_OPENING = ("opened", "reopened")


@dataclass(frozen=True)
class FindingState:
    """A finding as it stood at a moment (identity and names as known today)."""

    finding_id: str
    policy_id: str
    resource_uid: str
    resource_name: str
    resource_type: str
    connection: str
    region: str
    status: str  # open | waived | resolved
    severity: str  # the severity recorded with its last state change before the moment
    since: datetime  # when it entered this status
    open_since: datetime  # start of its latest failing spell (opened or reopened)
    first_seen: datetime
    waiver_id: str = ""  # the waiver it stood under, when waived


@dataclass(frozen=True)
class PeriodCounts:
    """State changes within a period; a finding changing twice counts twice."""

    period: Period
    new: int = 0
    resolved: int = 0
    reopened: int = 0
    waived: int = 0
    lapsed: int = 0  # back to open because a waiver expired or was revoked


@dataclass(frozen=True)
class ResolveTime:
    """How long the findings resolved in a period had been failing (since opened/reopened)."""

    period: Period
    resolved: int
    mean: timedelta | None  # None when nothing was resolved
    by_severity: dict[str, timedelta] = field(default_factory=dict)

    @property
    def mean_days(self) -> float | None:
        return None if self.mean is None else self.mean / timedelta(days=1)


@dataclass(frozen=True)
class TrendPoint:
    """One month of a trend: the state at its end and the changes within it."""

    period: Period
    open_by_severity: dict[str, int]  # every severity, most severe first, zeros included
    waived: int
    new: int
    resolved: int
    reopened: int

    @property
    def open(self) -> int:
        return sum(self.open_by_severity.values())


@dataclass(frozen=True)
class MonthHistory:
    """Everything the monthly report needs from the history, for one month."""

    period: Period
    findings: list[FindingState]  # open and waived at the end of the month
    counts: PeriodCounts
    resolve_time: ResolveTime
    trend: list[TrendPoint]  # oldest first, ending with ``period``


@dataclass(frozen=True)
class EventRow:
    """One state change of a finding."""

    at: datetime
    kind: str  # opened | resolved | reopened | waived | waiver_lapsed | unwaived
    reason: str  # a code: fails, no_longer_fails, resource_deleted, waiver_expired, ...
    severity: str
    scan_id: str
    waiver_id: str


@dataclass(frozen=True)
class _Event:
    at: datetime
    kind: str
    severity: str
    waiver_id: str


class _Timeline:
    """The events of a tenant up to a moment, grouped by finding, in order."""

    def __init__(self, session: Session, tenant_id: str, until: datetime) -> None:
        rows = session.execute(
            columns(
                col(FindingEvent.finding_id),
                col(FindingEvent.at),
                col(FindingEvent.kind),
                col(FindingEvent.severity),
                col(FindingEvent.waiver_id),
            )
            .where(col(FindingEvent.tenant_id) == tenant_id, col(FindingEvent.at) < until)
            .order_by(col(FindingEvent.at), col(FindingEvent.id))
        )
        self.ordered: list[tuple[str, _Event]] = []
        self.by_finding: dict[str, list[_Event]] = defaultdict(list)
        for finding, at, kind, severity, waiver_id in rows:
            event = _Event(at, kind, severity, waiver_id)
            self.ordered.append((finding, event))
            self.by_finding[finding].append(event)
        self.times = [e.at for _, e in self.ordered]

    def within(self, period: Period) -> list[tuple[str, _Event]]:
        lo = bisect.bisect_left(self.times, period.start)
        hi = bisect.bisect_left(self.times, period.end)
        return self.ordered[lo:hi]

    def state_at(self, finding: str, moment: datetime) -> tuple[_Event, datetime, datetime] | None:
        """The last event before ``moment``, when its status began, and the failing spell's start."""
        events = self.by_finding.get(finding, [])
        n = bisect.bisect_left([e.at for e in events], moment)
        if n == 0:
            return None
        last = events[n - 1]
        status = STATE_AFTER[last.kind]
        since = last.at
        open_since = events[0].at
        for event in reversed(events[:n]):
            if STATE_AFTER[event.kind] == status:
                since = event.at
            else:
                break
        for event in reversed(events[:n]):
            if event.kind in _OPENING:
                open_since = event.at
                break
        return last, since, open_since


def _period(tenant: Tenant, period: Period | str | None) -> Period:
    if isinstance(period, Period):
        return period
    return month(period, tenant.timezone, datetime.now(UTC))


def _months_back(last: Period, tz_name: str, count: int) -> list[Period]:
    """``count`` consecutive months ending with ``last``, oldest first."""
    tz = zone(tz_name)
    local = last.start.astimezone(tz)
    out: list[Period] = []
    year, mon = local.year, local.month
    for _ in range(count):
        start = datetime(year, mon, 1, tzinfo=tz)
        end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
        out.append(Period(start, end, f"{year:04d}-{mon:02d}"))
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out[::-1]


def _counts(period: Period, events: Iterable[tuple[str, _Event]]) -> PeriodCounts:
    kinds = Counter(e.kind for _, e in events)
    return PeriodCounts(
        period=period,
        new=kinds["opened"],
        resolved=kinds["resolved"],
        reopened=kinds["reopened"],
        waived=kinds["waived"],
        lapsed=kinds["waiver_lapsed"] + kinds["unwaived"],
    )


def _resolve_time(timeline: _Timeline, period: Period) -> ResolveTime:
    spans: list[timedelta] = []
    per_severity: dict[str, list[timedelta]] = defaultdict(list)
    for finding, event in timeline.within(period):
        if event.kind != "resolved":
            continue
        state = timeline.state_at(finding, event.at)  # just before it was resolved
        if state is None:
            continue
        span = event.at - state[2]
        spans.append(span)
        per_severity[event.severity].append(span)
    return ResolveTime(
        period=period,
        resolved=len(spans),
        mean=_mean(spans),
        by_severity={s: m for s, v in per_severity.items() if (m := _mean(v)) is not None},
    )


def _mean(spans: Sequence[timedelta]) -> timedelta | None:
    if not spans:
        return None
    return sum(spans, timedelta()) / len(spans)


def _states(
    session: Session,
    tenant: Tenant,
    timeline: _Timeline,
    moment: datetime,
    statuses: Sequence[str],
) -> list[FindingState]:
    names = {
        c.id: c.name
        for c in session.exec(select(Connection).where(Connection.tenant_id == tenant.id))
    }
    out: list[FindingState] = []
    rows = session.execute(  # the identity columns only: evidence stays in the store
        columns(
            col(Finding.id),
            col(Finding.policy_id),
            col(Finding.resource_uid),
            col(Finding.resource_name),
            col(Finding.resource_type),
            col(Finding.connection_id),
            col(Finding.region),
            col(Finding.first_seen),
        ).where(col(Finding.tenant_id) == tenant.id)
    )
    for fid, policy_id, uid, name, rtype, connection_id, region, first_seen in rows:
        state = timeline.state_at(fid, moment)
        if state is None:
            continue
        last, since, open_since = state
        status = STATE_AFTER[last.kind]
        if status not in statuses:
            continue
        out.append(
            FindingState(
                finding_id=fid,
                policy_id=policy_id,
                resource_uid=uid,
                resource_name=name,
                resource_type=rtype,
                connection=names.get(connection_id, ""),
                region=region,
                status=status,
                severity=last.severity,
                since=since,
                open_since=open_since,
                first_seen=first_seen,
                waiver_id=last.waiver_id if status == "waived" else "",
            )
        )
    out.sort(key=lambda s: (-_rank(s.severity), s.policy_id, s.resource_uid))
    return out


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return -1


def _trend(timeline: _Timeline, periods: Sequence[Period]) -> list[TrendPoint]:
    """One sweep over the events: the state counts at each month end, and changes within."""
    status: dict[str, tuple[str, str]] = {}  # finding -> (status, severity)
    tally: Counter[tuple[str, str]] = Counter()
    severities = [s.value for s in Severity.ordered()]
    severities += sorted({e.severity for _, e in timeline.ordered} - set(severities))
    points: list[TrendPoint] = []
    i = 0
    for period in periods:
        while i < len(timeline.ordered) and timeline.ordered[i][1].at < period.end:
            finding, event = timeline.ordered[i]
            if finding in status:
                tally[status[finding]] -= 1
            status[finding] = (STATE_AFTER[event.kind], event.severity)
            tally[status[finding]] += 1
            i += 1
        counts = _counts(period, timeline.within(period))
        points.append(
            TrendPoint(
                period=period,
                open_by_severity={s: tally[("open", s)] for s in severities},
                waived=sum(n for (st, _), n in tally.items() if st == "waived"),
                new=counts.new,
                resolved=counts.resolved,
                reopened=counts.reopened,
            )
        )
    return points


def _check_months(months: int) -> None:
    if not 1 <= months <= MAX_TREND_MONTHS:
        raise UsageError(f"a trend covers 1 to {MAX_TREND_MONTHS} months, got {months}")


def findings_at(
    ops: Operations,
    tenant: str | None,
    period: Period | str | None = None,
    *,
    statuses: Sequence[str] = ("open", "waived"),
) -> list[FindingState]:
    """The findings as they stood at the end of ``period``, most severe first."""
    check_choices("status", statuses, STATUSES)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        span = _period(ten, period)
        timeline = _Timeline(session, ten.id, span.end)
        return _states(session, ten, timeline, span.end, statuses)


def period_counts(
    ops: Operations, tenant: str | None, period: Period | str | None = None
) -> PeriodCounts:
    """New, resolved, reopened, waived and lapsed findings within ``period``."""
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        span = _period(ten, period)
        return _counts(span, _Timeline(session, ten.id, span.end).within(span))


def time_to_resolve(
    ops: Operations, tenant: str | None, period: Period | str | None = None
) -> ResolveTime:
    """Mean time to resolve of the findings resolved within ``period``."""
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        span = _period(ten, period)
        return _resolve_time(_Timeline(session, ten.id, span.end), span)


def monthly_trend(
    ops: Operations,
    tenant: str | None,
    until: Period | str | None = None,
    *,
    months: int = MAX_TREND_MONTHS,
) -> list[TrendPoint]:
    """``months`` (1-12) monthly points ending with the month ``until``, oldest first."""
    _check_months(months)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        last = _period(ten, until)
        periods = _months_back(last, ten.timezone, months)
        return _trend(_Timeline(session, ten.id, last.end), periods)


def month_history(
    ops: Operations,
    tenant: str | None,
    period: Period | str | None = None,
    *,
    months: int = MAX_TREND_MONTHS,
) -> MonthHistory:
    """State, changes, time to resolve and trend of one month, read once."""
    _check_months(months)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        return read_month_history(session, ten, _period(ten, period), months=months)


def read_month_history(
    session: Session, ten: Tenant, span: Period, *, months: int = MAX_TREND_MONTHS
) -> MonthHistory:
    """``month_history`` inside a session the caller holds (the report builder's)."""
    timeline = _Timeline(session, ten.id, span.end)
    return MonthHistory(
        period=span,
        findings=_states(session, ten, timeline, span.end, ("open", "waived")),
        counts=_counts(span, timeline.within(span)),
        resolve_time=_resolve_time(timeline, span),
        trend=_trend(timeline, _months_back(span, ten.timezone, months)),
    )


def finding_events(ops: Operations, finding_id: str, tenant: str | None = None) -> list[EventRow]:
    """The state changes of one finding, oldest first."""
    with ops.session() as session:
        query = select(Finding).where(Finding.id == finding_id)
        if tenant:
            query = query.where(Finding.tenant_id == resolve_tenant(session, tenant).id)
        finding = session.exec(query).first()
        if finding is None or not in_scope(session, finding.tenant_id):
            raise ConfigurationError(f"no finding with id '{finding_id}'")
        require(ops, "finding.read", finding.tenant_id)
        rows = session.exec(
            select(FindingEvent)
            .where(FindingEvent.finding_id == finding_id)
            .order_by(col(FindingEvent.at), col(FindingEvent.id))
        )
        return [EventRow(r.at, r.kind, r.reason, r.severity, r.scan_id, r.waiver_id) for r in rows]
