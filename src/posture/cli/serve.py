"""posture serve: the web app (API and console) and the scheduler, in the foreground."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import typer

from posture.cli.runtime import err_console, state
from posture.errors import UsageError


def serve(
    ctx: typer.Context,
    web: bool | None = typer.Option(
        None,
        "--web/--no-web",
        help="Serve the web console and REST API (default: on, unless only --scheduler is given).",
    ),
    scheduler: bool | None = typer.Option(
        None,
        "--scheduler/--no-scheduler",
        help="Run the tenants' schedules (default: on, unless only --web is given).",
    ),
    host: str = typer.Option(
        "127.0.0.1", "--host", metavar="ADDRESS", help="Address the web app listens on."
    ),
    port: int = typer.Option(
        8000, "--port", min=0, max=65535, metavar="PORT", help="Port of the web app."
    ),
    workers: int = typer.Option(
        0, "--workers", min=0, metavar="N", help="Also start N Celery workers."
    ),
    poll: float = typer.Option(
        30.0,
        "--poll-seconds",
        min=1.0,
        metavar="SECONDS",
        help="How often to look for added, changed or removed schedules.",
    ),
    json_logs: bool = typer.Option(
        True,
        "--json-logs/--text-logs",
        help="Logs of the web app and the scheduler as JSON lines or as plain text.",
    ),
) -> None:
    """Run posture's services in the foreground; stop with Ctrl-C or SIGTERM.

    Without options: the web app and the scheduler. ``--scheduler`` alone runs only the
    scheduler, ``--web`` alone only the web app.
    """
    run_web = web if web is not None else scheduler is not True
    run_scheduler = scheduler if scheduler is not None else web is not True
    if not run_web and not run_scheduler and not workers:
        raise UsageError("nothing to serve", hint="pass --web or --scheduler")
    if not run_web and not run_scheduler:  # the workers alone, in the foreground
        code = _worker_function("run_workers")(workers, state(ctx))
        raise typer.Exit(int(code or 0))
    stop_workers = _start_workers(workers, state(ctx)) if workers else None
    try:
        if not run_web:
            _run_scheduler_only(ctx, poll, json_logs)
        else:
            _run_web(ctx, host, port, poll if run_scheduler else None, json_logs)
    finally:
        if stop_workers is not None:
            stop_workers()


def _worker_function(name: str, module: str = "posture.worker") -> Callable[..., Any]:
    """A function of the worker package; a clear error when Celery workers are absent."""
    try:
        found: Any = importlib.import_module(module)
    except ModuleNotFoundError:
        found = None
    function: Callable[..., Any] | None = getattr(found, name, None)
    if function is None:
        raise UsageError(
            "Celery workers are not available in this installation",
            hint="run without --workers",
        )
    return function


WORKER_STOP_SECONDS = 60.0


def _start_workers(count: int, ops: Any) -> Callable[[], None]:
    """Worker processes beside the web app or scheduler; the returned call stops them."""
    _worker_function("run_workers")  # the package is there at all
    spawn = _worker_function("spawn_workers", "posture.worker.runner")
    procs: list[Any] = list(spawn(count, ops))
    err_console.print(f"{len(procs)} worker(s) started", markup=False)

    def stop() -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=WORKER_STOP_SECONDS)
            except Exception:  # a worker that does not stop in time is ended
                proc.kill()
        err_console.print("workers stopped", markup=False)

    return stop


def _scheduler_logging(json_lines: bool) -> Callable[[], None]:
    """The scheduler's records (and APScheduler's warnings) on standard error, as JSON lines
    or text like the web app's; the returned call removes the handlers."""
    from posture.logs import handler_for

    handler = handler_for("posture.scheduler", json=json_lines)
    # APScheduler's own warnings and errors (a job that could not be submitted, say)
    upstream = handler_for("apscheduler", json=json_lines, level=logging.WARNING)

    def remove() -> None:
        logging.getLogger("posture.scheduler").removeHandler(handler)
        logging.getLogger("apscheduler").removeHandler(upstream)

    return remove


def _run_scheduler_only(ctx: typer.Context, poll: float, json_logs: bool) -> None:
    from posture.scheduler import SchedulerService, run_until_signalled

    remove = _scheduler_logging(json_logs)
    service = SchedulerService(state(ctx), poll_seconds=poll)
    try:
        run_until_signalled(
            service,
            started=lambda _: err_console.print(
                "scheduler running; stop with Ctrl-C", markup=False
            ),
        )
    finally:
        remove()


def _announce(server: Any) -> None:
    """Say where the web app listens once it does (the real port when 0 was asked for)."""
    while not server.started:
        if server.should_exit:
            return
        threading.Event().wait(0.05)
    for listener in server.servers:
        for sock in listener.sockets:
            address, port = sock.getsockname()[:2]
            err_console.print(f"web serving on http://{address}:{port}", markup=False)


def _run_web(ctx: typer.Context, host: str, port: int, poll: float | None, json_logs: bool) -> None:
    """uvicorn in the foreground (it handles SIGINT and SIGTERM), the scheduler beside it."""
    import uvicorn

    from posture.web.app import create_app
    from posture.web.logs import configure_web_logging
    from posture.web.settings import WebSettings
    from posture.worker.executor import use_configured_executor

    # scans started through the API go to the Celery workers when a broker is configured
    ops = use_configured_executor(state(ctx))
    settings = WebSettings.from_env().model_copy(
        update={
            "db_url": ops.db_url,
            "policy_dirs": tuple(ops.policy_dirs),
            "scanner_dirs": tuple(ops.scanner_dirs),
            "json_logs": json_logs,
        }
    )
    log_handler = configure_web_logging(json_lines=json_logs)
    app = create_app(settings, ops=ops)
    service = None
    remove: Callable[[], None] = lambda: None  # noqa: E731
    if poll is not None:
        from posture.scheduler import SchedulerService

        remove = _scheduler_logging(json_logs)
        service = SchedulerService(ops, poll_seconds=poll)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    # uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again for the
    # handler it found: this one notes it, so the scheduler still stops and the exit is clean
    received: list[str] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if service is not None:
            service.start()
            err_console.print("scheduler running; stop with Ctrl-C", markup=False)
        threading.Thread(target=_announce, args=(server,), daemon=True).start()
        server.run()
    finally:
        if received:
            err_console.print(f"received {received[0]}: stopping", markup=False)
        if service is not None:
            service.shutdown(wait=True)
        for sig, before in previous.items():
            signal.signal(sig, before)
        remove()
        logging.getLogger("posture.web").removeHandler(log_handler)
