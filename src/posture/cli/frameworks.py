"""posture frameworks list|coverage|controls"""

from __future__ import annotations

import json

import typer
from rich.markup import escape

from posture.cli import output
from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.operations.frameworks import framework_controls, framework_coverage, list_frameworks

STATUSES = ("automated", "manual", "uncovered")

app = typer.Typer(
    help="Compliance frameworks and how much of each posture checks.", no_args_is_help=True
)


@app.command("list", cls=output.Command)
def list_(ctx: typer.Context) -> None:
    """List the frameworks of the built-in and configured content."""
    rows = list_frameworks(state(ctx))
    table = output.table("id", "provider", "version", "controls", "name")
    for row in rows:
        table.add_row(row.id, row.provider, row.version, str(row.total), escape(row.name.en))
    console.print(table)
    console.print(f"{len(rows)} frameworks")


@app.command("coverage", cls=output.Command)
def coverage(
    ctx: typer.Context,
    framework: str | None = typer.Option(
        None, "--framework", metavar="FRAMEWORK", help="Only this framework, e.g. cis-m365-7.0."
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print a list of {id, total, automated, manual, uncovered} objects.",
    ),
) -> None:
    """Controls per framework: automated (mapped to a policy), manual, and not covered."""
    rows = framework_coverage(state(ctx), framework)
    if as_json:
        print(json.dumps([row.as_dict() for row in rows], indent=2))
        return
    table = output.table("id", "total", "automated", "manual", "uncovered", "name")
    for row in rows:
        table.add_row(
            row.id,
            str(row.total),
            str(row.automated),
            str(row.manual),
            str(row.uncovered),
            escape(row.name.en),
        )
    console.print(table)


@app.command("controls", cls=output.Command)
def controls(
    ctx: typer.Context,
    framework: str = typer.Argument(
        ..., metavar="FRAMEWORK", help="Framework id, e.g. scuba-m365."
    ),
    status: str | None = typer.Option(
        None,
        "--status",
        metavar="STATUS",
        help="Only controls that are automated, manual or uncovered.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the controls as JSON."),
) -> None:
    """Every control of a framework: the policies that check it, or why it is manual."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"--status must be one of {', '.join(STATUSES)}, not '{status}'")
    rows = [r for r in framework_controls(state(ctx), framework) if status in (None, r.status)]
    if as_json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    table = output.table("id", "status", "policies / reason", "title")
    for row in rows:
        detail = ", ".join(row.policies) if row.policies else row.reason.en
        table.add_row(row.id, row.status, escape(detail), escape(row.title.en))
    console.print(table)
    console.print(f"{len(rows)} controls")
