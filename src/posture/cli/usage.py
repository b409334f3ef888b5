"""posture usage"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli.output import write_raw
from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.operations.exports import to_csv, to_json
from posture.operations.usage import USAGE_COLUMNS, tenant_usage


def usage(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Only this tenant (default: every tenant)."
    ),
    month: str | None = typer.Option(
        None,
        "--month",
        metavar="YYYY-MM",
        help="Month in each tenant's time zone (default: the current month).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the figures as CSV."),
    no_bom: bool = typer.Option(
        False, "--no-bom", help="CSV without the UTF-8 byte order mark Excel needs for Japanese."
    ),
) -> None:
    """Usage per tenant for a month: connections, AWS accounts, identities, resources, scans,
    API calls."""
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    rows = tenant_usage(state(ctx), tenant, month=month)
    if as_json:
        print(to_json(r.as_dict() for r in rows))
        return
    if as_csv:
        write_raw(to_csv((r.as_dict() for r in rows), USAGE_COLUMNS, bom=not no_bom))
        return
    table = Table(
        "tenant",
        "month",
        "plan",
        "connections",
        "scanned",
        "AWS accounts",
        "identities",
        "resources",
        "scans",
        "API calls",
    )
    for r in rows:
        table.add_row(
            escape(r.tenant),
            r.month + (" (to date)" if r.in_progress else ""),
            escape(r.plan),
            _connections(r.connections, r.connection_limit, r.connections_over_limit),
            str(r.connections_scanned),
            str(r.aws_accounts),
            str(r.identities),
            str(r.resources),
            str(r.scans),
            str(r.api_calls),
        )
    console.print(table)


def _connections(count: int, limit: int | None, over: int) -> str:
    """``3``, ``3/5``, or ``6/5 (+1 over the plan)`` in yellow."""
    if limit is None:
        return str(count)
    if over:
        return f"[yellow]{count}/{limit} (+{over} over the plan)[/]"
    return f"{count}/{limit}"
