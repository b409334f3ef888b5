"""posture tenant add|list"""

from __future__ import annotations

import re

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from posture.cli.runtime import console, state
from posture.errors import ConfigurationError, UsageError
from posture.store import Tenant

app = typer.Typer(help="Manage tenants (customer organisations).", no_args_is_help=True)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def parse_options(pairs: list[str]) -> dict[str, object]:
    """``key=value`` pairs; true/false become booleans."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"option '{pair}' must look like key=value")
        out[key] = {"true": True, "false": False}.get(value.lower(), value)
    return out


@app.command("add")
def add(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="Short id: lower-case letters, digits and dashes."),
    name: str = typer.Option(..., "--name", help="Display name of the customer."),
    locale: str = typer.Option("ja", "--locale", help="Report language: ja or en."),
    timezone: str = typer.Option("Asia/Tokyo", "--timezone"),
    contact: list[str] = typer.Option([], "--contact", help="Notification address (repeatable)."),
    option: list[str] = typer.Option([], "--option", help="Service option key=value (repeatable)."),
) -> None:
    """Register a tenant."""
    if not SLUG.match(slug):
        raise UsageError(f"invalid tenant slug '{slug}': use lower-case letters, digits and dashes")
    if locale not in ("ja", "en"):
        raise UsageError(f"invalid locale '{locale}': use ja or en")
    tenant = Tenant(
        slug=slug,
        name=name,
        locale=locale,
        timezone=timezone,
        contacts=contact,
        options=parse_options(option),
    )
    try:
        with state(ctx).store().session() as session:
            session.add(tenant)
    except IntegrityError as exc:
        raise ConfigurationError(f"tenant '{slug}' already exists") from exc
    console.print(f"tenant [bold]{escape(slug)}[/] added")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List tenants."""
    with state(ctx).store().session() as session:
        tenants = list(session.exec(select(Tenant).order_by(col(Tenant.slug))))
    table = Table("slug", "name", "locale", "time zone", "options")
    for t in tenants:
        table.add_row(
            escape(t.slug),
            escape(t.name),
            t.locale,
            t.timezone,
            escape(", ".join(f"{k}={v}" for k, v in t.options.items())),
        )
    console.print(table)
