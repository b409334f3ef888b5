"""posture audit list|export|verify|purge|retention"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, err_console, state
from posture.operations.audit import (
    AuditQuery,
    ChainCheck,
    audit_settings,
    export_audit,
    list_audit,
    parse_moment,
    purge_audit,
    purge_file_name,
    set_retention,
    verify_audit,
    verify_audit_file,
)

app = typer.Typer(
    help="The audit log of operator actions: list, export, verify, purge.", no_args_is_help=True
)

TENANT_HELP = "Only entries of this tenant (also of one no longer registered)."
ACTION_HELP = "Only this action, e.g. connection.add, or subject, e.g. connection (repeatable)."
SINCE_HELP = "From this date (YYYY-MM-DD, UTC) or ISO 8601 time, inclusive."
UNTIL_HELP = "Before this date (YYYY-MM-DD, UTC) or ISO 8601 time."


def _query(
    tenant: str | None,
    action: list[str],
    since: str | None,
    until: str | None,
    limit: int | None = None,
) -> AuditQuery:
    return AuditQuery(
        tenant=tenant,
        actions=tuple(action),
        since=parse_moment(since, "--since"),
        until=parse_moment(until, "--until"),
        limit=limit,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    action: list[str] = typer.Option([], "--action", metavar="ACTION", help=ACTION_HELP),
    since: str | None = typer.Option(None, "--since", metavar="WHEN", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", metavar="WHEN", help=UNTIL_HELP),
    limit: int = typer.Option(
        100, "--limit", min=1, metavar="N", help="How many of the newest entries to list."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
) -> None:
    """Audit entries in the order they were recorded (the newest last)."""
    entries = list_audit(state(ctx), _query(tenant, action, since, until, limit))
    if as_json:
        print(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
        return
    table = Table("#", "at (UTC)", "actor", "action", "tenant", "target", "source")
    for e in entries:
        table.add_row(
            str(e.seq),
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(e.actor),
            e.action,
            escape(e.tenant),
            escape(e.target[:60]),
            escape(e.source),
        )
    console.print(table)
    console.print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")


@app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", metavar="FILE", help="New file to write."),
    fmt: str = typer.Option(
        "jsonl", "--format", metavar="FORMAT", help="jsonl (verifiable) or csv."
    ),
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    action: list[str] = typer.Option([], "--action", metavar="ACTION", help=ACTION_HELP),
    since: str | None = typer.Option(None, "--since", metavar="WHEN", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", metavar="WHEN", help=UNTIL_HELP),
    no_bom: bool = typer.Option(
        False, "--no-bom", help="CSV without the UTF-8 byte order mark Excel needs for Japanese."
    ),
) -> None:
    """Write entries to a file: JSON Lines, or CSV whose cells cannot start a formula."""
    outcome = export_audit(
        state(ctx), out, _query(tenant, action, since, until), fmt=fmt, bom=not no_bom
    )
    console.print(f"wrote {outcome.entries} entries to {escape(str(outcome.path))}")


def _show_check(check: ChainCheck, what: str) -> None:
    start = f"from anchor entry {check.anchor_seq}" if check.anchor_seq else "from its start"
    if check.ok:
        console.print(
            f"{what}: intact, {check.entries} entries {start} to entry {check.last_seq}",
            soft_wrap=True,
        )
        return
    err_console.print(
        f"[bold red]{escape(what)}: broken at entry {check.broken_seq}:[/] "
        f"{escape(check.problem)} ({check.entries} entries {start} verified before it)",
        soft_wrap=True,
    )


@app.command("verify", cls=output.Command)
def verify(
    ctx: typer.Context,
    file: Path | None = typer.Option(
        None,
        "--file",
        metavar="FILE",
        help="Verify this exported or purged JSON Lines file instead of the store.",
    ),
    partial: bool = typer.Option(
        False,
        "--partial",
        help="The file is a filtered export (--tenant, --action): accept gaps between entries.",
    ),
) -> None:
    """Check the hash chain; exit 1 and name the first broken entry if any was edited,
    deleted or inserted."""
    if file is not None:
        check = verify_audit_file(file, partial=partial)
        _show_check(check, str(file))
    else:
        check = verify_audit(state(ctx))
        _show_check(check, "audit log")
    if not check.ok:
        raise typer.Exit(1)


@app.command("purge")
def purge(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="FILE",
        help="New JSON Lines file for the purged entries "
        "(default: posture-audit-purged-YYYYMMDDTHHMMSSZ.jsonl here).",
    ),
) -> None:
    """Move entries older than the retention to a file (ending with the chain's anchor),
    then delete them from the store."""
    path = out or Path(purge_file_name())
    outcome = purge_audit(state(ctx), path)
    if not outcome.purged:
        console.print(f"no entries older than {outcome.cutoff:%Y-%m-%d %H:%M} UTC")
        return
    console.print(
        f"moved {outcome.purged} entries recorded before {outcome.cutoff:%Y-%m-%d %H:%M} UTC "
        f"to {escape(str(path))}; the chain now starts after entry {outcome.anchor_seq} "
        f"(anchor {outcome.anchor_hash})",
        soft_wrap=True,
    )


@app.command("retention", cls=output.Command)
def retention(
    ctx: typer.Context,
    days: int | None = typer.Argument(
        None, metavar="DAYS", help="Keep entries this many days (default: show the setting)."
    ),
) -> None:
    """Show or set how long entries are kept before a purge (90 days by default)."""
    ops = state(ctx)
    settings = set_retention(ops, days) if days is not None else audit_settings(ops)
    oldest = f", oldest {settings.oldest:%Y-%m-%d}" if settings.oldest else ""
    console.print(
        f"audit entries are kept {settings.retention_days} days; "
        f"{settings.entries} in the store{oldest}"
    )
