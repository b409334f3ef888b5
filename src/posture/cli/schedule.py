"""posture schedule add|list|enable|disable|remove|runs"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, state
from posture.operations.schedules import (
    RunInfo,
    ScheduleInfo,
    add_schedule,
    list_runs,
    list_schedules,
    remove_schedule,
    set_schedule_enabled,
)

app = typer.Typer(
    help="Recurring scans, monthly reports and retention runs (run by posture serve --scheduler).",
    no_args_is_help=True,
)

TENANT_HELP = "Tenant (default: the only one)."


def _local(moment: datetime | None, timezone: str | None = None) -> str:
    if moment is None:
        return "-"
    if timezone:
        from posture.report.period import zone

        moment = moment.astimezone(zone(timezone))
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def _options(info: ScheduleInfo) -> str:
    shown: list[str] = []
    for key, value in info.options.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        if text:
            shown.append(f"{key}={text}")
    return " ".join(shown)


@app.command("add")
def add(
    ctx: typer.Context,
    kind: str = typer.Option(
        ..., "--kind", metavar="KIND", help="scan, monthly-report or retention."
    ),
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    cron: str | None = typer.Option(
        None,
        "--cron",
        metavar="EXPR",
        help='Crontab expression in the tenant\'s time zone, e.g. "0 3 * * *" (0 = Sunday).',
    ),
    day: str | None = typer.Option(
        None, "--day", metavar="DAY", help="Monthly report: day of the month (1-28 or last)."
    ),
    at: str | None = typer.Option(
        None, "--time", metavar="HH:MM", help="Monthly report: time of day (default 09:00)."
    ),
    timezone: str | None = typer.Option(
        None, "--timezone", metavar="ZONE", help="IANA time zone (default: the tenant's)."
    ),
    lang: list[str] = typer.Option(
        [],
        "--lang",
        metavar="LANG",
        help="Monthly report: ja or en (repeatable; default: the tenant's locale).",
    ),
    fmt: list[str] = typer.Option(
        [],
        "--format",
        metavar="FORMAT",
        help="Monthly report: pdf or html (repeatable; default pdf).",
    ),
    out: str | None = typer.Option(
        None,
        "--out",
        metavar="DIR",
        help="Monthly report: output folder (default: the tenant's report folder).",
    ),
    days: int | None = typer.Option(
        None,
        "--days",
        min=1,
        metavar="N",
        help="Retention: keep results of the last N days (default 395).",
    ),
    audit_dir: str | None = typer.Option(
        None,
        "--audit-dir",
        metavar="DIR",
        help="Retention: folder receiving audit entries past their retention, before they "
        "are deleted (default: $POSTURE_HOME/audit-archive).",
    ),
    connection: list[str] = typer.Option(
        [], "--connection", metavar="NAME", help="Scan: only this connection (repeatable)."
    ),
    policy: list[str] = typer.Option(
        [], "--policy", metavar="ID", help="Scan: only these policies (repeatable)."
    ),
    disabled: bool = typer.Option(False, "--disabled", help="Add it paused."),
) -> None:
    """Add a schedule of a tenant."""
    options: dict[str, Any] = {
        "languages": lang,
        "formats": fmt,
        "out": out,
        "days": days,
        "audit_dir": audit_dir,
        "connections": connection,
        "policies": policy,
    }
    info = add_schedule(
        state(ctx),
        tenant,
        kind,
        cron=cron,
        day=day,
        at=at,
        timezone=timezone,
        options=options,
        enabled=not disabled,
    )
    console.print(
        f"schedule [bold]{info.id}[/] added: {escape(info.tenant)} {info.kind} "
        f"at '{escape(info.cron)}' ({info.timezone}); next run {_local(info.next_run)}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Only this tenant (default: every tenant)."
    ),
) -> None:
    """List the schedules with their next and last run."""
    table = Table(
        "schedule",
        "tenant",
        "kind",
        "cron",
        "time zone",
        "enabled",
        "next run",
        "last run",
        "options",
    )
    for info in list_schedules(state(ctx), tenant):
        last = info.last_run
        table.add_row(
            info.id,
            escape(info.tenant),
            info.kind,
            escape(info.cron),
            info.timezone,
            "yes" if info.enabled else "no",
            _local(info.next_run),
            f"{_local(last.scheduled_for, info.timezone)} {last.outcome}" if last else "-",
            escape(_options(info)),
        )
    console.print(table)


@app.command("remove", cls=output.Command)
def remove(
    ctx: typer.Context,
    schedule_id: str = typer.Argument(..., metavar="ID", help="Schedule id or its start."),
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant of the schedule."
    ),
) -> None:
    """Remove a schedule (its run history is kept)."""
    info = remove_schedule(state(ctx), schedule_id, tenant)
    console.print(f"schedule [bold]{info.id}[/] removed ({escape(info.tenant)} {info.kind})")


def _toggle(ctx: typer.Context, schedule_id: str, tenant: str | None, enabled: bool) -> None:
    info = set_schedule_enabled(state(ctx), schedule_id, enabled, tenant)
    word = "enabled" if enabled else "disabled"
    console.print(f"schedule [bold]{info.id}[/] {word}; next run {_local(info.next_run)}")


@app.command("enable", cls=output.Command)
def enable(
    ctx: typer.Context,
    schedule_id: str = typer.Argument(..., metavar="ID", help="Schedule id or its start."),
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant of the schedule."
    ),
) -> None:
    """Resume a paused schedule (from its next fire time on)."""
    _toggle(ctx, schedule_id, tenant, True)


@app.command("disable", cls=output.Command)
def disable(
    ctx: typer.Context,
    schedule_id: str = typer.Argument(..., metavar="ID", help="Schedule id or its start."),
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant of the schedule."
    ),
) -> None:
    """Pause a schedule."""
    _toggle(ctx, schedule_id, tenant, False)


def _run_row(run: RunInfo) -> list[str]:
    took = f"{(run.finished_at - run.started_at).total_seconds():.1f}s" if run.finished_at else "-"
    return [
        run.schedule_id[:12],
        escape(run.tenant),
        run.kind,
        run.scheduled_for.strftime("%Y-%m-%d %H:%M"),
        run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        took,
        run.outcome,
        escape(run.error[:80]),
        escape(run.runner),
    ]


@app.command("runs")
def runs(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Only this tenant (default: every tenant)."
    ),
    schedule_id: str | None = typer.Option(
        None, "--schedule", metavar="ID", help="Only this schedule (id or its start)."
    ),
    limit: int = typer.Option(20, "--limit", min=1, metavar="N", help="How many runs to list."),
) -> None:
    """The most recent runs: when each was scheduled for, how it went."""
    table = Table(
        "schedule",
        "tenant",
        "kind",
        "scheduled for (UTC)",
        "started (UTC)",
        "took",
        "outcome",
        "error",
        "runner",
    )
    for run in list_runs(state(ctx), tenant, schedule_id=schedule_id, limit=limit):
        table.add_row(*_run_row(run))
    console.print(table)
