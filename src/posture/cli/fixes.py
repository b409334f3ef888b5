"""posture fix plan|approve|apply|rollback|list|show|resume|kill-switch: setting repair.

Dry run is the default: ``plan`` never changes anything, ``apply`` and ``rollback``
without ``--execute`` (or ``--yes``) only re-check the live resource.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.operations.exports import to_json
from posture.operations.fixes import (
    STATES,
    ApplyOutcome,
    FixRunInfo,
    apply_fix,
    approve_fix,
    kill_switch,
    list_fix_runs,
    plan_fixes,
    resume_fix_runs,
    rollback_fix,
    set_kill_switch,
    show_fix_run,
)

app = typer.Typer(
    help="Setting repair: plan, approve, apply, verify and roll back fixes.",
    no_args_is_help=True,
)
TENANT = typer.Option(None, "--tenant", metavar="SLUG", help="Tenant (default: the only one).")
STATE_HELP = "Only runs in this state (repeatable): " + ", ".join(STATES)
RUN_ID = typer.Argument(..., metavar="RUN_ID", help="Fix run id, or its first characters.")
EXECUTE = typer.Option(
    False, "--execute", "--yes", help="Make the change (without it: a dry run that re-checks)."
)


def _state(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _run_line(run: FixRunInfo) -> str:
    reason = f" ({escape(run.reason)})" if run.reason else ""
    return f"fix run {run.id}: {run.state}{reason}"


def _tenant(ctx: typer.Context, tenant: str | None) -> str:
    from posture.operations.tenants import default_tenant

    return default_tenant(state(ctx), tenant)


@app.command("plan", cls=output.Command)
def plan(
    ctx: typer.Context,
    tenant: str | None = TENANT,
    policy: list[str] = typer.Option([], "--policy", metavar="POLICY", help="Policy id or glob."),
    finding: list[str] = typer.Option([], "--finding", metavar="ID", help="Finding id (prefix)."),
    resource: list[str] = typer.Option(
        [], "--resource", metavar="GLOB", help="Resource uid or glob."
    ),
    connection: str | None = typer.Option(
        None, "--connection", metavar="NAME", help="Open findings of this connection."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Read the live resources of open findings and store before -> after; changes nothing."""
    outcome = plan_fixes(
        state(ctx),
        _tenant(ctx, tenant),
        policies=policy,
        findings=finding,
        resources=resource,
        connection=connection,
    )
    if as_json:
        print(
            to_json(
                [
                    *({"run": r.as_dict()} for r in outcome.runs),
                    *({"refused": r.__dict__} for r in outcome.refused),
                    *({"manual": m.__dict__} for m in outcome.manual),
                ]
            )
        )
        return
    for run in outcome.runs:
        console.print(f"planned {run.id}  {escape(run.fix_id)}  risk {run.risk}")
        console.print(f"  resource: {escape(run.resource_uid)}")
        console.print(f"  before:   {escape(_state(run.before))}")
        console.print(f"  after:    {escape(_state(run.after))}")
    for refused in outcome.refused:
        console.print(
            f"not planned: {escape(refused.resource_uid)} ({refused.policy_id}): "
            f"{escape(refused.message)}"
        )
    for manual in outcome.manual:
        console.print(f"manual: {escape(manual.resource_uid)} ({manual.policy_id})")
        console.print(f"  {escape(manual.recommendation['en'])}")
        for command in manual.commands:
            console.print(f"  $ {escape(command)}")
    console.print(
        f"{len(outcome.runs)} planned, {len(outcome.refused)} not planned, "
        f"{len(outcome.manual)} manual; approve with: posture fix approve RUN_ID"
    )


@app.command("approve", cls=output.Command)
def approve(ctx: typer.Context, run_id: str = RUN_ID) -> None:
    """Approve a planned run (someone other than the planner, unless the tenant allows)."""
    run = approve_fix(state(ctx), run_id)
    console.print(f"{_run_line(run)} by {escape(run.approved_by)}")


def _applied(outcome: ApplyOutcome, verb: str) -> None:
    run = outcome.run
    if not outcome.executed:
        console.print(f"dry run of {verb} {run.id} ({escape(run.fix_id)}):")
        console.print(f"  live now: {escape(_state(outcome.live))}")
        target = run.before if verb == "rollback" else run.after
        console.print(f"  would become: {escape(_state(target))}")
        if outcome.would_abort:
            console.print(f"  it would abort: {escape(outcome.would_abort)}")
        console.print("nothing was changed; add --execute to make the change")
        return
    console.print(_run_line(run))
    if run.state not in ("verified", "rolled_back"):
        raise typer.Exit(1)


@app.command("apply", cls=output.Command)
def apply(ctx: typer.Context, run_id: str = RUN_ID, execute: bool = EXECUTE) -> None:
    """Re-check the live resource and, with --execute, apply, verify and resolve."""
    _applied(apply_fix(state(ctx), run_id, execute=execute), "apply")


@app.command("rollback", cls=output.Command)
def rollback(ctx: typer.Context, run_id: str = RUN_ID, execute: bool = EXECUTE) -> None:
    """Restore a run's captured before-state and verify it."""
    _applied(rollback_fix(state(ctx), run_id, execute=execute), "rollback")


@app.command("resume", cls=output.Command)
def resume(ctx: typer.Context) -> None:
    """Finish the runs a stopped process left in applying, applied or rolling_back."""
    runs = resume_fix_runs(state(ctx))
    for run in runs:
        console.print(_run_line(run))
    console.print(f"{len(runs)} interrupted run(s) resumed")


@app.command("list", cls=output.Command)
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help="One tenant."),
    status: list[str] = typer.Option([], "--state", metavar="STATE", help=STATE_HELP),
    limit: int = typer.Option(50, "--limit", min=1, metavar="N", help="At most this many runs."),
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
) -> None:
    """Fix runs, newest first."""
    runs = list_fix_runs(state(ctx), tenant, states=status, limit=limit)
    if as_json:
        print(to_json(r.as_dict() for r in runs))
        return
    table = Table("run", "tenant", "fix", "resource", "state", "planned", "approved by")
    for r in runs:
        table.add_row(
            r.id,
            escape(r.tenant),
            escape(r.fix_id),
            escape(r.resource_name or r.resource_uid),
            r.state,
            f"{r.planned_at:%Y-%m-%d %H:%M}",
            escape(r.approved_by),
        )
    table.columns[0].no_wrap = True
    console.print(table)
    console.print(f"{len(runs)} fix run(s)")


@app.command("show", cls=output.Command)
def show(
    ctx: typer.Context,
    run_id: str = RUN_ID,
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """One run: plan, approval, before/after, outcome and every step."""
    run = show_fix_run(state(ctx), run_id)
    if as_json:
        print(to_json([run.as_dict()]))
        return
    console.print(_run_line(run))
    console.print(f"  fix: {escape(run.fix_id)} (risk {run.risk}) for {escape(run.policy_id)}")
    console.print(f"  resource: {escape(run.resource_uid)} [{escape(run.connection)}]")
    console.print(f"  before: {escape(_state(run.before))}")
    console.print(f"  after:  {escape(_state(run.after))}")
    for step in run.steps:
        console.print(
            f"  {step.get('at', '')}  {step.get('state', '')}  {escape(str(step.get('actor', '')))}"
        )


@app.command("kill-switch", cls=output.Command)
def kill(
    ctx: typer.Context,
    action: str = typer.Argument(
        ..., metavar="ACTION", help="on (stop every fix), off (allow them) or status."
    ),
    reason: str = typer.Option("", "--reason", metavar="TEXT", help="Why fixes are stopped."),
) -> None:
    """Stop every fix in every process sharing the store (on), allow them (off), or show."""
    ops = state(ctx)
    if action == "status":
        switch = kill_switch(ops)
    elif action in ("on", "off"):
        switch = set_kill_switch(ops, action == "on", reason=reason)
    else:
        raise UsageError("kill-switch takes on, off or status")
    if switch.disabled:
        console.print(f"kill switch ON: {escape(switch.reason)} (by {escape(switch.changed_by)})")
    else:
        console.print("kill switch off: fixes may run")
    if switch.env:
        console.print("POSTURE_FIXES_DISABLED is set: fixes are disabled in this process")
