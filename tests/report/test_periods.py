"""Honest periods: the tenant's time zone, months without scans, failed connections."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from posture.catalog import load_catalog
from posture.errors import UsageError
from posture.report import write_report
from posture.report.build import build_report_data
from posture.report.period import month
from posture.store import Connection, Scan, ScanTarget, Store, Tenant

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 12:00 on 1 December in Tokyo


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    with store.session() as session:
        tenant = Tenant(slug="acme", name="Acme", timezone="Asia/Tokyo")
        session.add(tenant)
        session.flush()
        good = Connection(tenant_id=tenant.id, name="prod", provider="aws")
        bad = Connection(tenant_id=tenant.id, name="staging", provider="aws")
        session.add_all([good, bad])
        session.flush()
        at = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)
        scan = Scan(tenant_id=tenant.id, status="partial", started_at=at, finished_at=at)
        session.add(scan)
        session.flush()
        session.add_all(
            [
                ScanTarget(
                    scan_id=scan.id, connection_id=good.id, status="succeeded", finished_at=at
                ),
                ScanTarget(
                    scan_id=scan.id,
                    connection_id=bad.id,
                    status="failed",
                    message="endpoint unreachable",
                    stats={"reason_code": "endpoint_unreachable"},
                    finished_at=at,
                ),
            ]
        )
    return store


def _first_page(store: Store, tmp_path: Path, period: str, lang: str) -> str:
    catalog = load_catalog()
    with store.session() as session:
        tenant = session.exec(select(Tenant)).one()
        span = month(period, tenant.timezone, NOW)
        data = build_report_data(session, catalog, tenant, span.start, span.end, generated_at=NOW)
    pdf = write_report(data, lang, "pdf", tmp_path / lang)
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # pdftotext breaks lines anywhere in Japanese text: compare without whitespace
    return "".join(text.split())


def _squeeze(text: str) -> str:
    return "".join(text.split())


needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils")


def test_months_follow_the_tenant_time_zone() -> None:
    span = month("2026-11", "Asia/Tokyo", NOW)
    assert span.start.isoformat() == "2026-11-01T00:00:00+09:00"
    assert span.end.isoformat() == "2026-12-01T00:00:00+09:00"
    # 1 December 00:30 in Tokyo is still 30 November in UTC: the current month is December
    assert month(None, "Asia/Tokyo", datetime(2026, 11, 30, 15, 30, tzinfo=UTC)).label == "2026-12"


@pytest.mark.parametrize(
    ("period", "said"),
    [
        ("2030-01", ["has not started", "まだ始まっていません"]),  # in both languages
        ("2027-01", ["has not started", "まだ始まっていません"]),
        ("2026-12-01", ["YYYY-MM"]),
    ],
)
def test_a_future_or_malformed_period_is_refused(period: str, said: list[str]) -> None:
    with pytest.raises(UsageError) as info:
        month(period, "Asia/Tokyo", NOW)
    for text in said:
        assert text in str(info.value)


@needs_pdftotext
@pytest.mark.parametrize(
    ("lang", "no_scan"),
    [
        ("en", "No scan of connection prod ran in this period"),
        ("ja", "接続 prod はこの期間に一度も診断されていません"),
    ],
)
def test_a_month_without_scans_says_so_on_the_first_page(
    store: Store, tmp_path: Path, lang: str, no_scan: str
) -> None:
    text = _first_page(store, tmp_path, "2026-10", lang)
    assert _squeeze(no_scan) in text
    assert "staging" in text and text.count(_squeeze(no_scan.split("prod")[0])) >= 2


@needs_pdftotext
@pytest.mark.parametrize(
    ("lang", "failed", "healthy"),
    [
        ("en", "Every scan of connection staging in this period failed", "connection prod"),
        ("ja", "接続 staging のこの期間の診断はすべて失敗しました", "接続 prod"),
    ],
)
def test_a_failed_connection_is_named_on_the_first_page(
    store: Store, tmp_path: Path, lang: str, failed: str, healthy: str
) -> None:
    text = _first_page(store, tmp_path, "2026-11", lang)
    assert _squeeze(failed) in text
    assert "endpointunreachable" in text
    reason = {
        "en": "The endpoint could not be reached",
        "ja": "エンドポイントに接続できませんでした",
    }
    assert _squeeze(reason[lang]) in text
    assert _squeeze(healthy) not in text  # the collected connection raises no alarm


def test_report_data_counts_only_the_periods_scans(store: Store) -> None:
    catalog = load_catalog()
    with store.session() as session:
        tenant = session.exec(select(Tenant)).one()
        october = month("2026-10", tenant.timezone, NOW)
        data = build_report_data(
            session, catalog, tenant, october.start, october.end, generated_at=NOW
        )
    assert data.scan_id is None
    assert {c.name: c.status for c in data.coverage} == {"prod": "no_scan", "staging": "no_scan"}
    assert {c.name: c.status for c in data.connections} == {"prod": "no_scan", "staging": "no_scan"}
