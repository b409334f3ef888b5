"""posture report"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.markup import escape

from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.scan import get_tenant


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


def report(
    ctx: typer.Context,
    tenant: str = typer.Option(..., "--tenant"),
    fmt: list[str] = typer.Option(["html"], "--format", help="html or pdf (repeatable)."),
    lang: list[str] = typer.Option(
        [], "--lang", help="ja or en (repeatable; default: the tenant's locale)."
    ),
    period: str | None = typer.Option(
        None, "--period", help="Month YYYY-MM (default: this month)."
    ),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
) -> None:
    """Render the tenant's report for a month."""
    from posture.report import write_report
    from posture.report.build import build_report_data

    for f in fmt:
        if f not in ("html", "pdf"):
            raise UsageError(f"--format takes html or pdf, got '{f}'")
    for code in lang:
        if code not in ("ja", "en"):
            raise UsageError(f"--lang takes ja or en, got '{code}'")
    st = state(ctx)
    catalog = st.catalog()
    start, end = parse_period(period, datetime.now(UTC))
    with st.store().session() as session:
        ten = get_tenant(session, tenant)
        data = build_report_data(session, catalog, ten, start, end)
        langs = lang or [ten.locale]
    for code in langs:
        for f in fmt:
            path = write_report(data, code, f, out)
            console.print(f"wrote {escape(str(path))}")
