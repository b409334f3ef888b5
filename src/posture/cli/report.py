"""posture report"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from posture.cli.runtime import console, err_console, state
from posture.errors import UsageError
from posture.report.period import month
from posture.scan import get_tenant


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
    fail_on_error: bool = typer.Option(
        False,
        "--fail-on-error",
        help="Exit 1 when a connection has no successful scan in the period.",
    ),
) -> None:
    """Render the tenant's report for a month (in the tenant's time zone)."""
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
    with st.store().session() as session:
        ten = get_tenant(session, tenant)
        span = month(period, ten.timezone, datetime.now(UTC))
        data = build_report_data(session, catalog, ten, span.start, span.end)
        langs = lang or [ten.locale]
    for code in langs:
        for f in fmt:
            path = write_report(data, code, f, out)
            console.print(f"wrote {escape(str(path))}")
    for gap in data.gaps:
        err_console.print(
            f"warning: connection {escape(gap.name)} has no successful scan in {span.label}",
            soft_wrap=True,
        )
    if fail_on_error and data.gaps:
        raise typer.Exit(1)
