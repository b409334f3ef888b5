"""posture notify add|list|remove|test|log|digest"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, err_console, state
from posture.operations.notifications import (
    NotifySummary,
    add_channel,
    list_channels,
    list_deliveries,
    remove_channel,
    send_digests,
    send_test,
)

app = typer.Typer(
    help="Notify new and reopened findings by e-mail, Slack, Microsoft Teams or webhook.",
    no_args_is_help=True,
)
TENANT_HELP = "Tenant (default: the only one)."


@app.command("add", cls=output.Command)
def add(
    ctx: typer.Context,
    kind: str = typer.Argument(..., metavar="KIND", help="email, slack, teams or webhook."),
    name: str = typer.Argument(..., metavar="NAME", help="Channel name, unique in the tenant."),
    tenant: str = typer.Option(..., "--tenant", metavar="SLUG", help="Tenant of the channel."),
    min_severity: str | None = typer.Option(
        None,
        "--min-severity",
        metavar="SEVERITY",
        help="Notify this severity and above (default: the tenant's notify_min_severity, or high).",
    ),
    mode: str = typer.Option(
        "immediate", "--mode", metavar="MODE", help="immediate (one message per finding) or digest."
    ),
    retries: int = typer.Option(3, "--retries", metavar="N", help="Retries after a failure."),
    backoff: float = typer.Option(
        2.0, "--backoff", metavar="SECONDS", help="First wait before a retry; doubles each time."
    ),
    link_base: str | None = typer.Option(
        None, "--link-base", metavar="URL", help="Console address; a message links URL/findings/ID."
    ),
    smtp_host: str | None = typer.Option(
        None, "--smtp-host", metavar="HOST", help="email: server."
    ),
    smtp_port: int | None = typer.Option(None, "--smtp-port", metavar="PORT", help="email: port."),
    security: str | None = typer.Option(
        None, "--security", metavar="MODE", help="email: starttls (default), ssl or none."
    ),
    sender: str | None = typer.Option(None, "--from", metavar="ADDRESS", help="email: sender."),
    to: list[str] = typer.Option(
        [], "--to", metavar="ADDRESS", help="email: recipient (repeatable)."
    ),
    username: str | None = typer.Option(
        None, "--username", metavar="USER", help="email: SMTP user."
    ),
    password_env: str | None = typer.Option(
        None, "--password-env", metavar="VAR", help="email: variable holding the SMTP password."
    ),
    url_env: str | None = typer.Option(
        None, "--url-env", metavar="VAR", help="slack/teams: variable holding the webhook URL."
    ),
    url: str | None = typer.Option(None, "--url", metavar="URL", help="webhook: endpoint."),
    secret_env: str | None = typer.Option(
        None, "--secret-env", metavar="VAR", help="webhook: variable holding the HMAC secret."
    ),
) -> None:
    """Add a channel. Secrets are named by environment variable, never stored."""
    given: dict[str, Any] = {
        "host": smtp_host,
        "port": smtp_port,
        "security": security,
        "sender": sender,
        "recipients": list(to) or None,
        "username": username,
        "password_env": password_env,
        "url_env": url_env,
        "url": url,
        "secret_env": secret_env,
        "link_base": link_base,
    }
    info = add_channel(
        state(ctx),
        tenant,
        name,
        kind,
        settings={k: v for k, v in given.items() if v is not None},
        min_severity=min_severity,
        mode=mode,
        retries=retries,
        backoff_seconds=backoff,
    )
    console.print(
        f"channel [bold]{escape(info.name)}[/] ({info.kind}, {info.mode}, "
        f"{info.min_severity} and above) added to tenant {escape(info.tenant)}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
) -> None:
    """List the channels of a tenant."""
    table = Table("name", "kind", "mode", "min severity", "retries", "target")
    for c in list_channels(state(ctx), tenant):
        table.add_row(
            escape(c.name), c.kind, c.mode, c.min_severity, str(c.retries), escape(c.target)
        )
    console.print(table)


@app.command("remove", cls=output.Command)
def remove(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="Channel to remove."),
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
) -> None:
    """Remove a channel and the record of its deliveries."""
    count = remove_channel(state(ctx), tenant, name)
    console.print(f"channel [bold]{escape(name)}[/] removed ({count} delivery records)")


@app.command("test", cls=output.Command)
def test(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="Channel to test."),
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
) -> None:
    """Send a test message through a channel; exit 1 when it cannot be delivered."""
    outcome = send_test(state(ctx), tenant, name)
    if outcome.sent:
        console.print(
            f"test message sent to [bold]{escape(name)}[/] ({outcome.attempts} attempt(s))"
        )
        return
    err_console.print(
        f"[bold red]error:[/] {escape(outcome.error)} ({outcome.attempts} attempt(s))",
        soft_wrap=True,
    )
    raise typer.Exit(1)


@app.command("log")
def log(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    status: str | None = typer.Option(
        None, "--state", metavar="STATE", help="queued, sending, sent or failed."
    ),
    limit: int = typer.Option(50, "--limit", metavar="N", help="How many, newest first."),
) -> None:
    """Show recorded deliveries: what was sent, what failed and why."""
    table = Table("queued at", "channel", "severity", "event", "policy", "state", "tries", "error")
    for d in list_deliveries(state(ctx), tenant, state=status, limit=limit):
        table.add_row(
            f"{d.created_at:%Y-%m-%d %H:%M}",
            escape(d.channel),
            d.severity,
            d.event,
            escape(d.policy_id),
            d.state,
            str(d.attempts),
            escape(d.last_error),
        )
    console.print(table)


@app.command("digest")
def digest(ctx: typer.Context) -> None:
    """Send the queued notifications of every digest channel now (a scheduler runs it daily)."""
    _summary(send_digests(state(ctx)))


def _summary(summary: NotifySummary) -> None:
    console.print(f"{summary.sent} notification(s) sent, {summary.failed} failed")
    for error in summary.errors:
        err_console.print(f"[yellow]warning:[/] {escape(error)}", soft_wrap=True)
    if summary.failed:
        raise typer.Exit(1)
