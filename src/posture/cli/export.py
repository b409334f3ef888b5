"""posture export"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from posture.cli.output import write_raw
from posture.cli.runtime import err_console, state
from posture.operations.exports import export_findings


def export(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant (default: the only one)."
    ),
    fmt: str = typer.Option(..., "--format", metavar="FORMAT", help="csv, json or ocsf."),
    month: str | None = typer.Option(
        None,
        "--month",
        metavar="YYYY-MM",
        help="Also the findings resolved in this month (in the tenant's time zone).",
    ),
    out: Path | None = typer.Option(
        None, "--out", metavar="FILE", help="Write to this file (default: standard output)."
    ),
    lang: str | None = typer.Option(
        None,
        "--lang",
        metavar="LANG",
        help="ja or en: language of OCSF titles and descriptions (default: the tenant's).",
    ),
    array: bool = typer.Option(
        False, "--array", help="OCSF as one JSON array instead of one event per line."
    ),
    no_bom: bool = typer.Option(
        False, "--no-bom", help="CSV without the UTF-8 byte order mark Excel needs for Japanese."
    ),
) -> None:
    """Export a tenant's findings as CSV, JSON or OCSF Detection Findings for a SIEM."""
    outcome = export_findings(
        state(ctx),
        tenant,
        fmt=fmt,
        month_text=month,
        lang=lang,
        out=out,
        bom=not no_bom,
        ocsf_array=array,
    )
    if outcome.path is None:
        write_raw(outcome.text)
        return
    covered = f" ({outcome.period.label})" if outcome.period else ""
    err_console.print(
        f"wrote {outcome.findings} finding(s){covered} to {escape(str(outcome.path))}",
        soft_wrap=True,
    )
