"""posture tenant add|list|show|menu|set-option|pause|resume"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.operations.menu import Menu, show_menu
from posture.operations.tenants import (
    TenantInfo,
    add_tenant,
    list_tenants,
    pause_tenant,
    resume_tenant,
    set_option,
    show_tenant,
)

app = typer.Typer(help="Manage tenants (customer organisations).", no_args_is_help=True)


def parse_options(pairs: list[str]) -> dict[str, object]:
    """``key=value`` pairs; true/false become booleans, whole numbers integers."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"option '{pair}' must look like key=value")
        out[key] = parse_value(value)
    return out


def parse_value(value: str) -> object:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if value.isdigit():
        return int(value)
    return value


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
    table = Table("slug", "name", "locale", "time zone", "state", "options")
    for t in list_tenants(state(ctx)):
        table.add_row(
            escape(t.slug),
            escape(t.name),
            t.locale,
            t.timezone,
            _state(t),
            escape(", ".join(f"{k}={v}" for k, v in t.options.items())),
        )
    console.print(table)


def _state(tenant: TenantInfo) -> str:
    if tenant.paused_at is None:
        return "active"
    return f"[yellow]paused[/] since {tenant.paused_at:%Y-%m-%d %H:%M} UTC"


@app.command("show", cls=output.Command)
def show(
    ctx: typer.Context,
    slug: str | None = typer.Argument(None, metavar="SLUG", help="Tenant (default: the only one)."),
) -> None:
    """Show a tenant: settings, state and service menu with its usage."""
    ops = state(ctx)
    t = show_tenant(ops, slug)
    console.print(f"[bold]{escape(t.slug)}[/]  {escape(t.name)}")
    console.print(f"locale {t.locale}, time zone {t.timezone}")
    console.print("contacts: " + (escape(", ".join(t.contacts)) or "none"))
    console.print(f"state: {_state(t)}")
    if t.paused:
        console.print(f"  reason: {escape(t.paused_reason)} (by {escape(t.paused_by)})")
    _print_menu(show_menu(ops, t.slug))
    others = {k: v for k, v in t.options.items() if k not in MENU_KEYS}
    if others:
        console.print("other options: " + escape(", ".join(f"{k}={v}" for k, v in others.items())))


MENU_KEYS = (
    "plan",
    "sspm",
    "cspm",
    "vulnerability_view",
    "setting_repair",
    "max_connections",
    "extra_connections",
    "strict_limits",
)


def _print_menu(menu: Menu) -> None:
    console.print(f"plan: [bold]{escape(menu.plan)}[/]")
    for name, included in menu.options().items():
        console.print(f"  {name}: {'yes' if included else 'no'}")
    limit = menu.connection_limit
    if limit is None:
        console.print(f"connections: {menu.connections} (no limit)")
    else:
        line = (
            f"connections: {menu.connections} of {limit} "
            f"(max_connections {menu.max_connections} + extra_connections "
            f"{menu.extra_connections}{', strict' if menu.strict_limits else ''})"
        )
        console.print(line)
        if menu.over_limit:
            console.print(f"  [yellow]{menu.over_limit} beyond the plan[/]")


@app.command("menu", cls=output.Command)
def menu(
    ctx: typer.Context,
    slug: str | None = typer.Argument(None, metavar="SLUG", help="Tenant (default: the only one)."),
) -> None:
    """Show the service menu a tenant bought and the connections it uses."""
    found = show_menu(state(ctx), slug)
    console.print(f"tenant [bold]{escape(found.tenant)}[/]")
    _print_menu(found)


@app.command("set-option", cls=output.Command)
def set_option_(
    ctx: typer.Context,
    slug: str = typer.Argument(..., metavar="SLUG", help="The tenant."),
    pair: str = typer.Argument(
        ...,
        metavar="KEY=VALUE",
        help="e.g. plan=sspm+cspm, max_connections=5, setting_repair.enabled=true; "
        "KEY= removes it.",
    ),
) -> None:
    """Set one option of a tenant's service menu (a dotted key sets inside a mapping)."""
    key, sep, value = pair.partition("=")
    if not sep or not key:
        raise UsageError(f"'{pair}' must look like key=value")
    tenant = set_option(state(ctx), slug, key, parse_value(value) if value else None)
    shown = "removed" if not value else f"set to {value}"
    console.print(f"tenant [bold]{escape(tenant.slug)}[/]: {escape(key)} {escape(shown)}")


@app.command("pause", cls=output.Command)
def pause(
    ctx: typer.Context,
    slug: str = typer.Argument(..., metavar="SLUG", help="The tenant."),
    reason: str = typer.Option(..., "--reason", metavar="TEXT", help="Why (shown to everyone)."),
) -> None:
    """Pause a tenant: no scans, scheduled jobs, fixes or notifications until resumed."""
    tenant = pause_tenant(state(ctx), slug, reason=reason)
    console.print(f"tenant [bold]{escape(tenant.slug)}[/] paused: {escape(tenant.paused_reason)}")


@app.command("resume", cls=output.Command)
def resume(
    ctx: typer.Context, slug: str = typer.Argument(..., metavar="SLUG", help="The tenant.")
) -> None:
    """Resume a paused tenant."""
    tenant = resume_tenant(state(ctx), slug)
    console.print(f"tenant [bold]{escape(tenant.slug)}[/] resumed")
