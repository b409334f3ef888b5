"""posture scans list|show: scan history and collection statistics."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, select

from posture.cli.runtime import console, state
from posture.errors import ConfigurationError
from posture.scan import get_tenant
from posture.store import Connection, Scan, ScanTarget

app = typer.Typer(
    help="Scan history and per-resource-type collection statistics.", no_args_is_help=True
)


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str = typer.Option(..., "--tenant"),
    limit: int = typer.Option(20, "--limit", min=1),
) -> None:
    """The most recent scans of a tenant."""
    with state(ctx).store().session() as session:
        ten = get_tenant(session, tenant)
        scans = list(
            session.exec(
                select(Scan)
                .where(Scan.tenant_id == ten.id)
                .order_by(col(Scan.started_at).desc())
                .limit(limit)
            )
        )
    table = Table(
        "scan", "started (UTC)", "status", "resources", "API calls", "open findings", "message"
    )
    for scan in scans:
        open_counts = scan.summary.get("open_by_severity", {})
        table.add_row(
            scan.id,
            scan.started_at.strftime("%Y-%m-%d %H:%M"),
            scan.status,
            str(scan.resources),
            str(scan.api_calls),
            str(sum(open_counts.values())),
            escape(scan.message[:60]),
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    scan_id: str = typer.Argument(..., help="Scan id from 'posture scans list'."),
) -> None:
    """Per connection and resource type: resources, API calls, errors, throttles, failures."""
    with state(ctx).store().session() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise ConfigurationError(f"no scan with id '{scan_id}'")
        rows = list(
            session.exec(
                select(ScanTarget, Connection)
                .join(Connection, col(ScanTarget.connection_id) == col(Connection.id))
                .where(ScanTarget.scan_id == scan_id)
            )
        )
    console.print(f"scan {scan.id}: {scan.status}, started {scan.started_at:%Y-%m-%d %H:%M} UTC")
    for target, conn in rows:
        console.print(
            f"\n[bold]{escape(conn.name)}[/] ({conn.provider}): {target.status} {escape(target.message)}"
        )
        table = Table("resource type", "resources", "API calls", "errors", "throttles", "seconds")
        for rtype, stat in target.stats.get("types", {}).items():
            table.add_row(
                rtype,
                str(stat["resources"]),
                str(stat["calls"]),
                str(stat["errors"]),
                str(stat["throttles"]),
                f"{stat['seconds']:.1f}",
            )
        console.print(table)
        for failure in target.stats.get("failures", []):
            console.print(
                f"[yellow]failed[/] {escape(failure['resource_type'])} [{escape(failure['region'])}]: "
                f"{escape(failure['message'])}"
            )
