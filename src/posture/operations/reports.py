"""Reports: render a tenant's report for a period in the chosen formats and languages.

A thin layer over ``posture.report``: it resolves the tenant and the period, checks the
choices, and owns the read transaction; building and rendering stay in the report package.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from posture.errors import UsageError
from posture.operations.context import Operations
from posture.operations.filters import check_choices
from posture.operations.tenants import resolve_tenant

FORMATS = ("html", "pdf")
LANGUAGES = ("ja", "en")


def parse_period(period: str | None, now: datetime) -> tuple[datetime, datetime]:
    """``YYYY-MM`` -> [first day, first day of next month); default: the current month."""
    if period is None:
        year, month = now.year, now.month
    else:
        try:
            year, month = (int(p) for p in period.split("-"))
            datetime(year, month, 1)
        except ValueError as exc:
            raise UsageError(f"--period takes YYYY-MM, got '{period}'") from exc
    start = datetime(year, month, 1, tzinfo=UTC)
    days = calendar.monthrange(year, month)[1]
    return start, start + timedelta(days=days)


def generate_report(
    ops: Operations,
    tenant: str | None,
    *,
    formats: Sequence[str] = ("html",),
    languages: Sequence[str] = (),
    period: str | None = None,
    out: Path | str = Path("out"),
    now: datetime | None = None,
) -> list[Path]:
    """Write the report files; no ``languages`` means the tenant's own locale."""
    from posture.report import write_report
    from posture.report.build import build_report_data

    for fmt in formats:
        if fmt not in FORMATS:
            raise UsageError(f"--format takes html or pdf, got '{fmt}'")
    check_choices("--lang", languages, LANGUAGES)
    start, end = parse_period(period, now or datetime.now(UTC))
    catalog = ops.catalog()
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        data = build_report_data(session, catalog, ten, start, end)
        langs = list(languages) or [ten.locale]
    return [write_report(data, lang, fmt, out) for lang in langs for fmt in formats]
