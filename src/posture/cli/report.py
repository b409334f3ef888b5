"""posture report"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from posture.cli.runtime import console, state
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
) -> None:
    """Render the tenant's report for a month."""
    paths = generate_report(state(ctx), tenant, formats=fmt, languages=lang, period=period, out=out)
    for path in paths:
        console.print(f"wrote {escape(str(path))}")
