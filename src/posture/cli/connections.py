"""posture connection add aws|list|check"""

from __future__ import annotations

import json
import logging
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from posture.cli.runtime import console, err_console, state
from posture.connectors.registry import checker
from posture.errors import ConfigurationError, PostureError, failure_reason
from posture.scan import get_tenant
from posture.store import Connection, Tenant
from posture.store.types import utcnow

log = logging.getLogger(__name__)
app = typer.Typer(
    help="Manage connections (cloud accounts and SaaS tenants).", no_args_is_help=True
)
add_app = typer.Typer(help="Add a connection.", no_args_is_help=True)
app.add_typer(add_app, name="add")


def save_connection(
    ctx: typer.Context, tenant_slug: str, name: str, provider: str, settings: dict[str, Any]
) -> None:
    try:
        with state(ctx).store().session() as session:
            tenant = get_tenant(session, tenant_slug)
            session.add(
                Connection(tenant_id=tenant.id, name=name, provider=provider, settings=settings)
            )
    except IntegrityError as exc:
        raise ConfigurationError(
            f"tenant '{tenant_slug}' already has a connection named '{name}'"
        ) from exc


@add_app.command("aws")
def add_aws(
    ctx: typer.Context,
    tenant: str = typer.Option(..., "--tenant"),
    name: str = typer.Option(..., "--name", help="Connection name, unique within the tenant."),
    profile: str | None = typer.Option(
        None, "--profile", help="Named profile of the AWS config files."
    ),
    role_arn: str | None = typer.Option(
        None, "--role-arn", help="Role to assume in the customer account."
    ),
    external_id: str | None = typer.Option(
        None, "--external-id", help="External id required by the role."
    ),
    region: list[str] = typer.Option(
        [], "--region", help="Region to scan (repeatable; default: all enabled)."
    ),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", help="API endpoint override, e.g. moto_server."
    ),
) -> None:
    """Add an AWS account. Credentials are referenced (profile, role), never stored."""
    from posture.connectors.aws.entry import parse_settings

    typed: dict[str, Any] = {"profile": profile, "role_arn": role_arn, "regions": region}
    typed |= {"external_id": external_id, "endpoint_url": endpoint_url}
    settings = parse_settings(name, typed).model_dump(exclude_defaults=True)
    save_connection(ctx, tenant, name, "aws", settings)
    console.print(f"connection [bold]{escape(name)}[/] (aws) added to tenant {escape(tenant)}")


@app.command("list")
def list_(ctx: typer.Context, tenant: str | None = typer.Option(None, "--tenant")) -> None:
    """List connections and their health."""
    with state(ctx).store().session() as session:
        query = (
            select(Connection, Tenant).join(Tenant).order_by(col(Tenant.slug), col(Connection.name))
        )
        if tenant:
            query = query.where(Tenant.slug == tenant)
        rows = list(session.exec(query))
    table = Table("tenant", "connection", "provider", "account", "health", "checked", "message")
    for conn, ten in rows:
        table.add_row(
            escape(ten.slug),
            escape(conn.name),
            conn.provider,
            escape(conn.account),
            conn.health,
            conn.checked_at.strftime("%Y-%m-%d %H:%M") if conn.checked_at else "-",
            escape(conn.health_message[:80]),
        )
    console.print(table)


@app.command("check")
def check(
    ctx: typer.Context,
    tenant: str = typer.Option(..., "--tenant"),
    name: str | None = typer.Option(None, "--name", help="Only this connection."),
) -> None:
    """Sign in with each connection's credentials and record its health (exit 1 if any fails)."""
    store = state(ctx).store()
    with store.session() as session:
        ten = get_tenant(session, tenant)
        conns = [
            c
            for c in session.exec(select(Connection).where(Connection.tenant_id == ten.id))
            if not name or c.name == name
        ]
    if not conns:
        raise ConfigurationError(
            f"tenant '{tenant}' has no connection{f' named {name!r}' if name else 's'}"
        )
    failed = 0
    for conn in conns:
        try:
            info = checker(conn.provider)(conn.name, conn.settings)
            health, shown, message = (
                "ok",
                "ok",
                f"account {info.get('account')}, {len(info.get('regions', []))} region(s)",
            )
        except Exception as exc:  # one bad connection must not hide the others' health
            reason, message = check_failure(conn.name, exc)
            health, shown, info, failed = "failed", f"failed ({reason})", {}, failed + 1
        with store.session() as session:
            row = session.get(Connection, conn.id)
            assert row is not None
            row.health, row.health_message, row.checked_at = health, message, utcnow()
            row.account = str(info.get("account", row.account))
            session.add(row)
        out = console if health == "ok" else err_console
        out.print(f"{escape(conn.name)}: {shown} - {escape(message)}", soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def check_failure(name: str, exc: Exception) -> tuple[str, str]:
    """Reason code and message of a failed check; unexpected errors go to the log."""
    if not isinstance(exc, PostureError):
        log.error("checking connection %s failed unexpectedly", name, exc_info=exc)
        exc = PostureError(f"connection '{name}': unexpected {type(exc).__name__}: {exc}")
    return failure_reason(exc).value, exc.message


@app.command("permissions")
def permissions(
    ctx: typer.Context,
    provider: str = typer.Argument("aws", help="Provider whose read permissions to list."),
    as_json: bool = typer.Option(False, "--json", help="Print an IAM policy document."),
) -> None:
    """The read-only API permissions a scan needs, derived from the collection specs."""
    from posture.connectors.aws.permissions import policy_document
    from posture.connectors.aws.validate import required_permissions

    if provider != "aws":
        raise ConfigurationError(f"no permission list for provider '{provider}'; available: aws")
    actions = required_permissions(state(ctx).catalog().specs.values())
    if as_json:
        print(json.dumps(policy_document(actions), indent=2))
        return
    for action in actions:
        console.print(action, markup=False)
