"""Root command and global options."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import typer

from posture.cli import (
    audit,
    connections,
    demo,
    export,
    findings,
    fixes,
    frameworks,
    notify,
    policies,
    report,
    results,
    scan,
    scans,
    schedule,
    serve,
    tenants,
    usage,
    users,
    waivers,
    worker,
)
from posture.cli.runtime import State
from posture.operations.audit import face_source

app = typer.Typer(
    name="posture",
    help="Security posture scanning for managed security providers: collect, evaluate, report.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"posture {metadata.version('posture')}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        envvar="POSTURE_DATABASE_URL",
        help="Store URL (default: SQLite under ~/.posture).",
    ),
    policies_dir: list[Path] = typer.Option(
        [],
        "--policies-dir",
        metavar="DIR",
        help="Extra policy folder (repeatable); extends the built-in policies.",
    ),
    scanners_dir: list[Path] = typer.Option(
        [],
        "--scanners-dir",
        metavar="DIR",
        help="Extra collection-spec folder (repeatable); extends the built-in specs.",
    ),
    remediation_dir: list[Path] = typer.Option(
        [],
        "--remediation-dir",
        metavar="DIR",
        help="Extra fix folder (repeatable); extends the built-in fixes.",
    ),
    actor: str | None = typer.Option(
        None,
        "--actor",
        metavar="NAME",
        envvar="POSTURE_ACTOR",
        help="Who is acting, as the audit log records it (default: the operating-system user).",
    ),
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the version and exit.",
    ),
) -> None:
    ctx.obj = State(
        db_url=db,
        policy_dirs=list(policies_dir),
        scanner_dirs=list(scanners_dir),
        remediation_dirs=list(remediation_dir),
        actor=actor or "",
        source=face_source("cli"),
    )


app.add_typer(tenants.app, name="tenant")
app.add_typer(connections.app, name="connection")
app.add_typer(policies.app, name="policies")
app.add_typer(frameworks.app, name="frameworks")
app.add_typer(scans.app, name="scans")
app.add_typer(notify.app, name="notify")
app.add_typer(waivers.app, name="waiver")
app.add_typer(schedule.app, name="schedule")
app.add_typer(audit.app, name="audit")
app.add_typer(users.users, name="user")
app.add_typer(users.tokens, name="token")
app.add_typer(fixes.app, name="fix")
app.add_typer(worker.app, name="service")
app.command("scan")(scan.scan)
app.command("findings")(findings.findings)
app.command("results")(results.results)
app.command("report")(report.report)
app.command("export")(export.export)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("usage")(usage.usage)
app.command("worker")(worker.worker)
