"""posture tenant add|list"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.operations.tenants import add_tenant, list_tenants

app = typer.Typer(help="Manage tenants (customer organisations).", no_args_is_help=True)


def parse_options(pairs: list[str]) -> dict[str, object]:
    """``key=value`` pairs; true/false become booleans."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"option '{pair}' must look like key=value")
        out[key] = {"true": True, "false": False}.get(value.lower(), value)
    return out


@app.command("add", cls=output.Command)
def add(
    ctx: typer.Context,
    slug: str = typer.Argument(
        ..., metavar="SLUG", help="Short id: lower-case letters, digits and dashes."
    ),
    name: str = typer.Option(..., "--name", metavar="NAME", help="Display name of the customer."),
    locale: str = typer.Option(
        "ja", "--locale", metavar="LOCALE", help="Report language: ja or en."
    ),
    timezone: str = typer.Option(
        "Asia/Tokyo", "--timezone", metavar="ZONE", help="IANA time zone of the customer."
    ),
    contact: list[str] = typer.Option(
        [], "--contact", metavar="ADDRESS", help="Notification address (repeatable)."
    ),
    option: list[str] = typer.Option(
        [],
        "--option",
        metavar="KEY=VALUE",
        help="Service option, e.g. auto_remediation=false (repeatable).",
    ),
) -> None:
    """Register a tenant."""
    tenant = add_tenant(
        state(ctx),
        slug,
        name=name,
        locale=locale,
        timezone=timezone,
        contacts=contact,
        options=parse_options(option),
    )
    console.print(f"tenant [bold]{escape(tenant.slug)}[/] added")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List tenants."""
    table = Table("slug", "name", "locale", "time zone", "options")
    for t in list_tenants(state(ctx)):
        table.add_row(
            escape(t.slug),
            escape(t.name),
            t.locale,
            t.timezone,
            escape(", ".join(f"{k}={v}" for k, v in t.options.items())),
        )
    console.print(table)
