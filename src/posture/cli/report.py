"""posture report"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from posture.cli.runtime import console, err_console, state
from posture.operations.reports import generate_report


def report(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant (default: the only one)."
    ),
    fmt: list[str] = typer.Option(
        ["html"], "--format", metavar="FORMAT", help="html or pdf (repeatable)."
    ),
    lang: list[str] = typer.Option(
        [],
        "--lang",
        metavar="LANG",
        help="ja or en (repeatable; default: the tenant's locale).",
    ),
    period: str | None = typer.Option(
        None, "--period", metavar="YYYY-MM", help="Month to report on (default: this month)."
    ),
    out: Path = typer.Option(Path("out"), "--out", metavar="DIR", help="Output folder."),
    fail_on_error: bool = typer.Option(
        False,
        "--fail-on-error",
        help="Exit 1 when a connection has no successful scan in the period.",
    ),
) -> None:
    """Render the tenant's report for a month (in the tenant's time zone)."""
    outcome = generate_report(
        state(ctx), tenant, formats=fmt, languages=lang, period=period, out=out
    )
    for path in outcome.paths:
        console.print(f"wrote {escape(str(path))}")
    for name in outcome.gaps:
        err_console.print(
            f"warning: connection {escape(name)} has no successful scan in {outcome.period.label}",
            soft_wrap=True,
        )
    if fail_on_error and outcome.gaps:
        raise typer.Exit(1)
