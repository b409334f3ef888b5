"""posture scan"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from posture.cli.runtime import console, err_console, state
from posture.models import Severity
from posture.operations.filters import parse_severity
from posture.operations.scans import scan_tenant, tenants_to_scan
from posture.operations.tenants import list_tenants
from posture.scan import ProgressFactory, ScanOutcome
from posture.worker.executor import use_configured_executor


def scan(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant to scan (default: every tenant)."
    ),
    connection: list[str] = typer.Option(
        [], "--connection", metavar="NAME", help="Only these connections (repeatable)."
    ),
    policy: list[str] = typer.Option(
        [],
        "--policy",
        metavar="POLICY",
        help="Only these policies: id, id prefix (aws.iam) or glob (repeatable).",
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        metavar="SEVERITY",
        help="Exit 1 when open findings of this severity or higher exist (e.g. high).",
    ),
    fail_on_error: bool = typer.Option(
        False,
        "--fail-on-error",
        help="Exit 1 when any connection failed or any resource type could not be collected.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    notify: bool = typer.Option(
        True, "--notify/--no-notify", help="Notify new and reopened findings (posture notify)."
    ),
) -> None:
    """Collect, evaluate and record findings.

    Exit 1 when every connection failed, on --fail-on, or with --fail-on-error when any
    connection or resource type failed; a partly failed scan otherwise exits 0 with warnings.
    """
    threshold = parse_severity(fail_on) if fail_on else None
    ops = use_configured_executor(state(ctx))
    exit_code = 0
    if not tenant:
        for paused in (t for t in list_tenants(ops) if t.paused):
            console.print(
                f"[yellow]tenant {escape(paused.slug)} is paused: not scanned[/] "
                f"({escape(paused.paused_reason)})"
            )
    for slug in tenants_to_scan(ops, tenant):
        with progress_display(quiet) as factory:
            outcome = scan_tenant(
                ops,
                slug,
                connections=connection,
                policies=policy,
                progress=factory,
                notify=notify,
            )
        print_outcome(outcome)
        if outcome.status == "failed" or (fail_on_error and outcome.status != "succeeded"):
            exit_code = 1
        if threshold and any(
            Severity(sev).rank >= threshold.rank and n
            for sev, n in outcome.open_by_severity.items()
        ):
            exit_code = 1
    if exit_code:
        raise typer.Exit(exit_code)


@contextmanager
def progress_display(quiet: bool = False) -> Iterator[ProgressFactory | None]:
    """A Rich progress bar per connection on a terminal; nothing otherwise."""
    if quiet or not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:

        def factory(connection: str, total: int) -> Callable[[str, str, int], None]:
            task = bar.add_task(escape(f"collect {connection}"), total=total or None)

            def advance(resource_type: str, region: str, count: int) -> None:
                bar.update(
                    task, advance=1, description=escape(f"{connection}: {resource_type} [{region}]")
                )

            return advance

        yield factory


def print_outcome(outcome: ScanOutcome) -> None:
    """One line per connection: readable on a terminal and in a CI log alike."""
    console.print(
        f"scan {outcome.scan_id} of tenant [bold]{escape(outcome.tenant)}[/]: "
        f"{outcome.status} in {outcome.seconds:.1f}s"
    )
    for t in outcome.targets:
        if t.status == "failed":
            err_console.print(
                f"[red]connection {escape(t.connection)} failed ({t.reason}):[/] {escape(t.message)}",
                soft_wrap=True,
            )
            continue
        console.print(
            f"  {escape(t.connection)}: {t.status}, {t.resources} resources, {t.api_calls} API calls; "
            f"results fail {t.results.get('fail', 0)} / pass {t.results.get('pass', 0)} / "
            f"not applicable {t.results.get('not_applicable', 0)} / "
            f"error {t.results.get('error', 0)} / unknown {t.results.get('unknown', 0)}; findings new {t.lifecycle.new + t.lifecycle.reopened}, "
            f"resolved {t.lifecycle.resolved}"
        )
        for failure in t.failures:
            err_console.print(f"  [yellow]collection error[/] {escape(failure)}")
    sev = ", ".join(
        f"{s.value} {outcome.open_by_severity.get(s.value, 0)}" for s in Severity.ordered()
    )
    console.print(f"open findings: {sev}")
