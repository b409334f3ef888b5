"""posture scans list|show: scan history and collection statistics."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, state
from posture.operations.scans import list_scans, show_scan

app = typer.Typer(
    help="Scan history and per-resource-type collection statistics.", no_args_is_help=True
)


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant (default: the only one)."
    ),
    limit: int = typer.Option(
        20, "--limit", min=1, metavar="N", help="How many of the newest scans to list."
    ),
) -> None:
    """The most recent scans of a tenant."""
    table = Table(
        "scan", "started (UTC)", "status", "resources", "API calls", "open findings", "message"
    )
    for scan in list_scans(state(ctx), tenant, limit):
        table.add_row(
            scan.id,
            scan.started_at.strftime("%Y-%m-%d %H:%M"),
            scan.status,
            str(scan.resources),
            str(scan.api_calls),
            str(scan.open_findings),
            escape(scan.message[:60]),
        )
    table.columns[0].no_wrap = True  # ids are copied into other commands
    console.print(table)


@app.command("show", cls=output.Command)
def show(
    ctx: typer.Context,
    scan_id: str = typer.Argument(
        ...,
        metavar="SCAN_ID",
        help="Scan id from 'posture scans list', or its first characters if unique.",
    ),
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Look for the scan in this tenant only."
    ),
) -> None:
    """Per connection and resource type: resources, API calls, errors, throttles, failures."""
    detail = show_scan(state(ctx), scan_id, tenant)
    scan = detail.scan
    console.print(
        f"scan {scan.id} of tenant {escape(scan.tenant)}: {scan.status}, "
        f"started {scan.started_at:%Y-%m-%d %H:%M} UTC"
    )
    for target in detail.targets:
        console.print(
            f"\n[bold]{escape(target.connection)}[/] ({target.provider}): "
            f"{target.status}{f' ({target.reason})' if target.reason else ''} "
            f"{escape(target.message)}"
        )
        table = Table("resource type", "resources", "API calls", "errors", "throttles", "seconds")
        for stat in target.types:
            table.add_row(
                stat.resource_type,
                str(stat.resources),
                str(stat.calls),
                str(stat.errors),
                str(stat.throttles),
                f"{stat.seconds:.1f}",
            )
        console.print(table)
        for failure in target.failures:
            console.print(
                f"[yellow]failed[/] {escape(f'{failure.resource_type} [{failure.region}]')}: "
                f"{escape(failure.message)}"
            )
