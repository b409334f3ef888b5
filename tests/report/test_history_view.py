"""The report's history read from the store: trend per month, the period's changes.

Runs on SQLite and, when POSTURE_TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from posture.operations import Operations
from posture.operations.reports import generate_report
from posture.report.history_view import report_history
from posture.store import Connection, Finding, Scan, Store, Tenant

TOKYO = ZoneInfo("Asia/Tokyo")
ROOT_MFA = "aws.iam.root_mfa_enabled"


def month(m: int) -> tuple[datetime, datetime]:
    return datetime(2026, m, 1, tzinfo=TOKYO), datetime(
        2026 + (m == 12), m % 12 + 1, 1, tzinfo=TOKYO
    )


def at(m: int, day: int) -> datetime:
    # 00:30 JST on the 1st is still the previous month in UTC: months are the tenant's
    return datetime(2026, m, day, 0, 30, tzinfo=TOKYO).astimezone(UTC)


@pytest.fixture
def seeded(store: Store) -> tuple[Store, str]:
    with store.session() as session:
        tenant = Tenant(slug="hist", name="History KK", timezone="Asia/Tokyo")
        session.add(tenant)
        session.flush()
        conn = Connection(tenant_id=tenant.id, name="aws", provider="aws")
        session.add(conn)
        session.flush()
        for m, passed, failed in ((9, 90, 10), (10, 92, 8), (11, 95, 5)):
            session.add(
                Scan(
                    tenant_id=tenant.id,
                    status="succeeded",
                    started_at=at(m, 1),
                    finished_at=at(m, 1) + timedelta(minutes=5),
                    summary={"results": {"pass": passed, "fail": failed}},
                )
            )

        def finding(key: str, opened: datetime, **kw: object) -> Finding:
            return Finding(
                id=f"{tenant.id}-{key}",
                tenant_id=tenant.id,
                connection_id=conn.id,
                policy_id=ROOT_MFA,
                resource_type="aws.iam.root",
                resource_uid=f"uid-{key}",
                resource_name=f"name-{key}",
                severity="critical",
                first_seen=opened,
                last_seen=kw.pop("last_seen", at(11, 1)),  # type: ignore[arg-type]
                **kw,  # type: ignore[arg-type]
            )

        session.add(finding("a", at(9, 1), state="resolved", resolved_at=at(10, 11)))
        session.add(finding("b", at(10, 1)))
        session.add(finding("c", at(11, 1)))
        session.add(finding("d", at(9, 1), reopened=1))
        return store, tenant.id


def history(store: Store, tenant_id: str, m: int):  # type: ignore[no-untyped-def]
    start, end = month(m)
    with store.session() as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        return report_history(session, tenant, start, end, TOKYO)


def test_trend_counts_open_findings_at_each_month_end(seeded: tuple[Store, str]) -> None:
    got = history(*seeded, 11)
    assert [m.month for m in got.months] == ["2026-09", "2026-10", "2026-11"]
    assert [sum(m.open_by_severity.values()) for m in got.months] == [2, 2, 3]
    assert [(m.new, m.resolved) for m in got.months] == [(2, 0), (1, 1), (1, 0)]
    assert [m.score for m in got.months] == [90.0, 92.0, 95.0]


def test_period_counts_and_time_to_resolve(seeded: tuple[Store, str]) -> None:
    november = history(*seeded, 11).counts
    assert november is not None
    assert (november.new, november.resolved, november.reopened) == (1, 0, 1)
    assert november.mttr_days is None
    october = history(*seeded, 10).counts
    assert october is not None
    assert (october.new, october.resolved) == (1, 1)
    assert october.mttr_days == pytest.approx(40.0)
    # an earlier month keeps its own trend: nothing after October counts
    assert [m.month for m in history(*seeded, 10).months] == ["2026-09", "2026-10"]


def test_report_prints_the_history(seeded: tuple[Store, str], tmp_path: Path) -> None:
    store, _ = seeded
    outcome = generate_report(
        Operations.using(store),
        "hist",
        formats=("html",),
        languages=("en",),
        period="2026-11",
        out=tmp_path,
        now=datetime(2026, 12, 2, tzinfo=UTC),
    )
    html = outcome.paths[0].read_text(encoding="utf-8")
    assert "2026-09" in html and "2026-11" in html
    assert "+3.0 points since the previous month." in html
    assert "Mean time to resolve" in html
