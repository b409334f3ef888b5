"""posture demo"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import typer
from rich.markup import escape

from posture.cli.runtime import console, state
from posture.cli.scan import print_outcome, progress_display
from posture.operations.demo import demo_console_users, run_demo, shown_url

STORE_HELP = (
    "Store URL for the demo (default: demo.db, SQLite, in the --out folder). Without it a --db given on the "
    "command line is used; POSTURE_DATABASE_URL and the default store under POSTURE_HOME never "
    "are, so the demo cannot disturb a working store."
)


def _store_url(ctx: typer.Context, store: str | None, out: Path) -> str:
    """--store, else a --db given on this command line, else the demo's own SQLite file."""
    from posture.demo.runner import demo_store_url

    if store:
        return store
    db_url = state(ctx).db_url
    source = ctx.find_root().get_parameter_source("db")
    if db_url and source is not None and source.name == "COMMANDLINE":
        return db_url
    if os.environ.get("POSTURE_DATABASE_URL"):
        console.print("note: the demo does not use POSTURE_DATABASE_URL; --store picks its store")
    return demo_store_url(out)


def _program() -> str:
    """How the user invoked posture (``.venv/bin/posture`` from ``make demo``), if we can tell."""
    invoked = sys.argv[0] if sys.argv else ""
    return invoked if Path(invoked).name == "posture" else "posture"


def demo(
    ctx: typer.Context,
    out: Path = typer.Option(
        Path("out"), "--out", metavar="DIR", help="Where the reports and demo.db go."
    ),
    scale: int = typer.Option(
        1, "--scale", min=1, metavar="N", help="Multiply the planted estate."
    ),
    store_url: str | None = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """Plant a misconfigured AWS estate in a local moto server, scan it and write reports.

    Every run plants the same resource ids, so running it again into the same store
    records no new and no resolved finding.
    """
    from posture.demo.runner import next_commands

    url = _store_url(ctx, store_url, out)
    console.print(
        "planting a deliberately misconfigured AWS estate (with correctly configured twins) in a local moto server ..."
    )
    with progress_display() as factory:
        result = run_demo(state(ctx), url, out=out, scale=scale, progress=factory)
    bad = sum(1 for r in result.manifest.resources if r.expected == "bad")
    good = len(result.manifest.resources) - bad
    console.print(
        f"planted {bad} misconfigured and {good} correctly configured resource checks in {', '.join(result.manifest.regions)}"
    )
    print_outcome(result.outcome)
    console.print(f"{len(result.failing_policies)} distinct policies failed")
    shown = shown_url(url)
    console.print(f"store: {escape(shown)}")
    if result.reports:
        console.print("reports:")
    for path in result.reports:
        console.print(f"  {escape(str(path.resolve()))}")
    console.print("next, try:")
    for command in next_commands(shown, _program()):
        console.print(f"  {escape(command)}", soft_wrap=True)
    logins = demo_console_users(url, result.outcome.tenant)
    console.print(
        "open the web console (one-time passwords, shown once; change them at first sign-in):"
    )
    console.print(f"  {escape(_program())} --db {escape(shlex.quote(shown))} serve", soft_wrap=True)
    for login in logins:
        console.print(
            f"  {escape(login.username)} ({escape(login.role)}): {escape(login.one_time_password)}",
            soft_wrap=True,
        )
