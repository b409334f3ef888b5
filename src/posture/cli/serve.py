"""posture serve --scheduler"""

from __future__ import annotations

import logging
import sys

import typer

from posture.cli.runtime import err_console, state
from posture.errors import UsageError


def serve(
    ctx: typer.Context,
    scheduler: bool = typer.Option(
        False, "--scheduler", help="Run the tenants' schedules in the foreground."
    ),
    poll: float = typer.Option(
        30.0,
        "--poll-seconds",
        min=1.0,
        metavar="SECONDS",
        help="How often to look for added, changed or removed schedules.",
    ),
) -> None:
    """Run posture's services in the foreground; stop with Ctrl-C or SIGTERM."""
    if not scheduler:
        raise UsageError("nothing to serve", hint="pass --scheduler")
    from posture.scheduler import SchedulerService, run_until_signalled

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("posture.scheduler")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # APScheduler's own warnings and errors (a job that could not be submitted, say)
    upstream = logging.getLogger("apscheduler")
    upstream_handler = logging.StreamHandler(sys.stderr)
    upstream_handler.setLevel(logging.WARNING)
    upstream_handler.setFormatter(handler.formatter)
    upstream.addHandler(upstream_handler)
    service = SchedulerService(state(ctx), poll_seconds=poll)
    try:
        run_until_signalled(
            service,
            started=lambda _: err_console.print(
                "scheduler running; stop with Ctrl-C", markup=False
            ),
        )
    finally:
        logger.removeHandler(handler)
        upstream.removeHandler(upstream_handler)
