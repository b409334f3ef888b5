"""Finding events across scans, and the history rebuilt from them: state at a month end,
counts per period, time to resolve and the monthly trend (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from posture.catalog import Catalog
from posture.errors import UsageError
from posture.operations import Operations
from posture.operations.history import (
    finding_events,
    findings_at,
    month_history,
    monthly_trend,
    period_counts,
    time_to_resolve,
)
from posture.store import FindingEvent, Store

from .conftest import ENCRYPTION, ROOT_MFA, VERSIONING
from .estate import ACCOUNT, DATA, LOGS, Estate, account, bucket

JAN = datetime(2026, 1, 10, tzinfo=UTC)
FEB = datetime(2026, 2, 10, tzinfo=UTC)
MAR = datetime(2026, 3, 10, tzinfo=UTC)


def events(store: Store, fid: str) -> list[tuple[str, str]]:
    with store.session() as session:
        rows = session.exec(
            select(FindingEvent)
            .where(FindingEvent.finding_id == fid)
            .order_by(col(FindingEvent.at), col(FindingEvent.id))
        )
        return [(e.kind, e.reason) for e in rows]


@pytest.fixture
def estate(store: Store, catalog: Catalog) -> Estate:
    """Three monthly scans: fixes and a deletion in February, a regression in March."""
    e = Estate(store, catalog)
    e.scan(
        JAN,
        [bucket(LOGS), bucket(DATA), account()],
        [(VERSIONING, LOGS), (ENCRYPTION, LOGS), (VERSIONING, DATA), (ROOT_MFA, ACCOUNT)],
    )
    # February: logs gets versioning, the data bucket is deleted
    e.scan(FEB, [bucket(LOGS), account()], [(ENCRYPTION, LOGS), (ROOT_MFA, ACCOUNT)])
    # the account gets MFA, but reading IAM fails: the finding must stay open, silently
    e.scan(FEB + timedelta(days=10), [bucket(LOGS), account()], [(ENCRYPTION, LOGS)],
           failed_types=["aws.iam.account"])  # fmt: skip
    # March: versioning is switched off again; the account is read and passes
    e.scan(MAR, [bucket(LOGS), account()], [(VERSIONING, LOGS), (ENCRYPTION, LOGS)])
    return e


def test_every_state_change_is_an_event(store: Store, estate: Estate) -> None:
    assert events(store, estate.fid(VERSIONING, LOGS)) == [
        ("opened", "fails"),
        ("resolved", "no_longer_fails"),
        ("reopened", "fails_again"),
    ]
    assert events(store, estate.fid(VERSIONING, DATA)) == [
        ("opened", "fails"),
        ("resolved", "resource_deleted"),
    ]
    # nothing was recorded for the scan that could not read IAM
    assert events(store, estate.fid(ROOT_MFA, ACCOUNT)) == [
        ("opened", "fails"),
        ("resolved", "no_longer_fails"),
    ]
    assert events(store, estate.fid(ENCRYPTION, LOGS)) == [("opened", "fails")]


def test_rescan_without_change_records_nothing(store: Store, estate: Estate) -> None:
    before = len(events(store, estate.fid(ENCRYPTION, LOGS)))
    _, stats = estate.scan(
        MAR + timedelta(days=1), [bucket(LOGS), account()], [(VERSIONING, LOGS), (ENCRYPTION, LOGS)]
    )
    assert stats.still_open == 2 and stats.new == stats.resolved == stats.reopened == 0
    assert len(events(store, estate.fid(ENCRYPTION, LOGS))) == before


def test_state_of_an_earlier_month_after_later_scans(ops: Operations, estate: Estate) -> None:
    january = findings_at(ops, "acme", "2026-01")
    assert {(s.policy_id, s.resource_uid, s.status) for s in january} == {
        (VERSIONING, LOGS, "open"),
        (ENCRYPTION, LOGS, "open"),
        (VERSIONING, DATA, "open"),
        (ROOT_MFA, ACCOUNT, "open"),
    }
    assert january[0].policy_id == ROOT_MFA and january[0].severity == "critical"
    assert all(s.since == JAN and s.connection == "prod" for s in january)

    february = findings_at(ops, "acme", "2026-02", statuses=("open", "waived", "resolved"))
    status = {(s.policy_id, s.resource_uid): s for s in february}
    assert status[(VERSIONING, LOGS)].status == "resolved"
    assert status[(VERSIONING, LOGS)].since == FEB
    assert status[(VERSIONING, DATA)].status == "resolved"
    assert status[(ROOT_MFA, ACCOUNT)].status == "open"  # the failed read did not resolve it
    assert status[(ENCRYPTION, LOGS)].status == "open"

    march = {(s.policy_id, s.resource_uid): s for s in findings_at(ops, "acme", "2026-03")}
    assert set(march) == {(VERSIONING, LOGS), (ENCRYPTION, LOGS)}
    assert march[(VERSIONING, LOGS)].since == MAR
    assert march[(VERSIONING, LOGS)].open_since == MAR
    assert march[(VERSIONING, LOGS)].first_seen == JAN
    # before anything was seen there is nothing
    assert findings_at(ops, "acme", "2025-12") == []


def test_counts_per_period(ops: Operations, estate: Estate) -> None:
    jan, feb, mar = (period_counts(ops, "acme", m) for m in ("2026-01", "2026-02", "2026-03"))
    assert (jan.new, jan.resolved, jan.reopened) == (4, 0, 0)
    assert (feb.new, feb.resolved, feb.reopened) == (0, 2, 0)
    assert (mar.new, mar.resolved, mar.reopened) == (0, 1, 1)
    assert feb.period.label == "2026-02"


def test_mean_time_to_resolve(ops: Operations, estate: Estate) -> None:
    feb = time_to_resolve(ops, "acme", "2026-02")
    assert feb.resolved == 2 and feb.mean == FEB - JAN and feb.mean_days == 31
    assert feb.by_severity == {"medium": FEB - JAN}
    mar = time_to_resolve(ops, "acme", "2026-03")
    assert mar.resolved == 1 and mar.by_severity == {"critical": MAR - JAN}
    jan = time_to_resolve(ops, "acme", "2026-01")
    assert jan.resolved == 0 and jan.mean is None and jan.mean_days is None


def test_monthly_trend(ops: Operations, estate: Estate) -> None:
    trend = monthly_trend(ops, "acme", "2026-03", months=3)
    assert [p.period.label for p in trend] == ["2026-01", "2026-02", "2026-03"]
    assert [p.open_by_severity["critical"] for p in trend] == [1, 1, 0]
    assert [p.open_by_severity["medium"] for p in trend] == [3, 1, 2]
    assert [p.open for p in trend] == [4, 2, 2]
    assert [(p.new, p.resolved, p.reopened) for p in trend] == [(4, 0, 0), (0, 2, 0), (0, 1, 1)]
    assert list(trend[0].open_by_severity) == ["critical", "high", "medium", "low", "info"]

    year = monthly_trend(ops, "acme", "2026-03")
    assert len(year) == 12 and year[0].period.label == "2025-04"
    assert year[0].open == 0 and year[-1] == trend[-1]
    with pytest.raises(UsageError, match="1 to 12 months"):
        monthly_trend(ops, "acme", "2026-03", months=13)


def test_month_history_in_one_call(ops: Operations, estate: Estate) -> None:
    history = month_history(ops, "acme", "2026-02", months=2)
    assert history.period.label == "2026-02"
    assert {s.resource_uid for s in history.findings} == {LOGS, ACCOUNT}
    assert history.counts.resolved == 2 and history.resolve_time.mean == FEB - JAN
    assert [p.period.label for p in history.trend] == ["2026-01", "2026-02"]


def test_months_follow_the_tenant_time_zone(
    ops: Operations, store: Store, catalog: Catalog
) -> None:
    e = Estate(store, catalog)
    # 16:00 UTC on 31 January is 01:00 on 1 February in Tokyo
    e.scan(datetime(2026, 1, 31, 16, tzinfo=UTC), [bucket(LOGS)], [(VERSIONING, LOGS)])
    assert period_counts(ops, "acme", "2026-01").new == 0
    assert period_counts(ops, "acme", "2026-02").new == 1
    assert findings_at(ops, "acme", "2026-01") == []


def test_finding_timeline(ops: Operations, estate: Estate) -> None:
    timeline = finding_events(ops, estate.fid(VERSIONING, LOGS), "acme")
    assert [e.kind for e in timeline] == ["opened", "resolved", "reopened"]
    assert timeline[1].reason == "no_longer_fails" and timeline[1].scan_id
    assert [e.at for e in timeline] == [JAN, FEB, MAR]
