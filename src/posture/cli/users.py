"""posture user add|list|disable|reset-password|set-role|email, posture token create|list|revoke

A one-time password or a token secret is printed once, when it is made: the store keeps
only its hash.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, state
from posture.operations.access import parse_role
from posture.operations.exports import to_json
from posture.operations.identity import (
    MAX_TOKEN_DAYS,
    TokenInfo,
    UserInfo,
    add_user,
    create_token,
    disable_user,
    list_tokens,
    list_users,
    reset_password,
    revoke_token,
    set_email,
    set_role,
)

users = typer.Typer(help="Manage the users of the web console and the API.", no_args_is_help=True)
tokens = typer.Typer(help="Manage API tokens.", no_args_is_help=True)

ROLES = "provider_admin, analyst, auditor, customer_admin or customer_viewer"
USERNAME = typer.Argument(..., metavar="USERNAME", help="The user's sign-in name.")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


def _one_time(username: str, password: str) -> None:
    console.print(f"one-time password for {escape(username)} (shown once): {escape(password)}")
    console.print("it must be changed at the first sign-in")


@users.command("add", cls=output.Command)
def add(
    ctx: typer.Context,
    username: str = USERNAME,
    role: str = typer.Option(..., "--role", metavar="ROLE", help=f"One of {ROLES}."),
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="The tenant of a customer role."
    ),
    name: str = typer.Option("", "--name", metavar="NAME", help="Display name."),
    locale: str = typer.Option("ja", "--locale", metavar="LOCALE", help="ja or en."),
    email: str | None = typer.Option(
        None,
        "--email",
        metavar="ADDRESS",
        help="The user's e-mail address: with single sign-on configured, the first sign-in "
        "through the identity provider with this verified address links the account.",
    ),
) -> None:
    """Add a user with a one-time password, printed once."""
    info, one_time = add_user(
        state(ctx), username, role=parse_role(role), tenant=tenant, display_name=name,
        locale=locale, email=email,
    )  # fmt: skip
    where = f" of tenant {escape(info.tenant)}" if info.tenant else ""
    console.print(f"user [bold]{escape(info.username)}[/] added as {info.role}{where}")
    if one_time:
        _one_time(info.username, one_time)


def _user_record(u: UserInfo) -> dict[str, object]:
    return {
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role.value,
        "tenant": u.tenant,
        "locale": u.locale,
        "email": u.email,
        "sso_linked": u.sso_linked,
        "disabled": u.disabled,
        "locked_until": u.locked_until.isoformat() if u.locked_until else None,
        "must_change_password": u.must_change_password,
        "created_at": u.created_at.isoformat() if u.created_at else None,
        "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
    }


@users.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Only the users of this tenant."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the users as JSON."),
) -> None:
    """List users."""
    found = list_users(state(ctx), tenant)
    if as_json:
        print(to_json(_user_record(u) for u in found))
        return
    now = datetime.now(UTC)
    table = Table("user", "name", "role", "tenant", "e-mail", "state", "last sign-in")
    for u in found:
        status = "disabled" if u.disabled else "active"
        if not u.disabled and u.locked_until and u.locked_until > now:
            status = f"locked until {_when(u.locked_until)}"
        elif not u.disabled and u.must_change_password:
            status = "one-time password"
        table.add_row(
            escape(u.username),
            escape(u.display_name),
            u.role.value,
            escape(u.tenant or "-"),
            escape(u.email or "-") + (" (SSO)" if u.sso_linked else ""),
            status,
            _when(u.last_login_at),
        )
    console.print(table)
    console.print(f"{len(found)} user(s)")


@users.command("email", cls=output.Command)
def email_(
    ctx: typer.Context,
    username: str = USERNAME,
    address: str = typer.Argument(
        "", metavar="ADDRESS", help="The new address; leave it out with --clear."
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove the user's address."),
) -> None:
    """Set a user's e-mail address, which single sign-on links by. A new address lets go of
    the identity linked through the old one; the next single sign-on links again."""
    if bool(address) == clear:
        raise typer.BadParameter("give an ADDRESS or --clear (not both)")
    info = set_email(state(ctx), username, None if clear else address)
    shown = escape(info.email) if info.email else "none"
    console.print(f"user {escape(info.username)}: e-mail address {shown}")


@users.command("disable", cls=output.Command)
def disable(ctx: typer.Context, username: str = USERNAME) -> None:
    """Disable a user: its sessions end and its API tokens stop working."""
    info = disable_user(state(ctx), username)
    console.print(f"user {escape(info.username)} disabled")


@users.command("reset-password", cls=output.Command)
def reset(ctx: typer.Context, username: str = USERNAME) -> None:
    """Give a user a new one-time password (printed once); also unlocks the account."""
    one_time = reset_password(state(ctx), username)
    _one_time(username.strip().lower(), one_time)


@users.command("set-role", cls=output.Command)
def change_role(
    ctx: typer.Context,
    username: str = USERNAME,
    role: str = typer.Argument(..., metavar="ROLE", help=f"One of {ROLES}."),
) -> None:
    """Give a user another role; its sessions end."""
    info = set_role(state(ctx), username, parse_role(role))
    console.print(f"user {escape(info.username)} is now {info.role}")


@tokens.command("create", cls=output.Command)
def create(
    ctx: typer.Context,
    username: str = typer.Option(
        ..., "--user", metavar="USERNAME", help="The user the token acts as."
    ),
    name: str = typer.Option(..., "--name", metavar="NAME", help="What the token is for."),
    scope: list[str] = typer.Option(
        [],
        "--scope",
        metavar="PERMISSION",
        help="A permission, e.g. finding.read (repeatable; default: all of the user's rights).",
    ),
    days: int = typer.Option(
        90, "--days", metavar="DAYS", help=f"Days until it expires (1-{MAX_TOKEN_DAYS})."
    ),
) -> None:
    """Create an API token; its secret is printed once."""
    info, secret = create_token(
        state(ctx), username, name=name, scopes=scope or None, expires_days=days
    )
    console.print(
        f"token {info.prefix} for {escape(info.username)} created, "
        f"expires {_when(info.expires_at)} UTC"
    )
    console.print("secret (shown once; send it as 'Authorization: Bearer <secret>'):")
    print(secret)


def _token_record(t: TokenInfo, now: datetime) -> dict[str, object]:
    return {
        "id": t.id,
        "prefix": t.prefix,
        "name": t.name,
        "user": t.username,
        "scopes": list(t.scopes) if t.scopes is not None else None,
        "state": t.state(now),
        "created_at": t.created_at.isoformat() if t.created_at else None,
        "expires_at": t.expires_at.isoformat(),
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
    }


@tokens.command("list")
def list_tokens_(
    ctx: typer.Context,
    username: str | None = typer.Option(
        None, "--user", metavar="USERNAME", help="Only the tokens of this user."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the tokens as JSON."),
) -> None:
    """List API tokens (never their secrets)."""
    found = list_tokens(state(ctx), username)
    now = datetime.now(UTC)
    if as_json:
        print(to_json(_token_record(t, now) for t in found))
        return
    table = Table("token", "name", "user", "scopes", "state", "expires", "last used")
    for t in found:
        table.add_row(
            t.prefix,
            escape(t.name),
            escape(t.username),
            escape(", ".join(t.scopes) if t.scopes is not None else "(role)"),
            t.state(now),
            _when(t.expires_at),
            _when(t.last_used_at),
        )
    table.columns[0].no_wrap = True  # ids are copied into 'token revoke'
    console.print(table)
    console.print(f"{len(found)} token(s)")


@tokens.command("revoke", cls=output.Command)
def revoke(
    ctx: typer.Context,
    token_id: str = typer.Argument(
        ...,
        metavar="TOKEN",
        help="The token's id, as token list shows it (pst_ and 12 hex digits).",
    ),
) -> None:
    """Revoke an API token at once."""
    info = revoke_token(state(ctx), token_id)
    console.print(f"token {info.prefix} revoked")
