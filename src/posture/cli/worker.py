"""posture worker; posture service status"""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli.runtime import console, state
from posture.operations.service import service_status

app = typer.Typer(help="The service mode: workers, queues.", no_args_is_help=True)


def worker(
    ctx: typer.Context,
    concurrency: int = typer.Option(
        1, "--concurrency", "-c", min=1, metavar="N", help="Tasks run at once (pool processes)."
    ),
    queues: str = typer.Option(
        "",
        "--queues",
        "-Q",
        metavar="NAMES",
        help="Comma-separated queues to take tasks from (default: every posture queue).",
    ),
    hostname: str | None = typer.Option(
        None, "--hostname", "-n", metavar="NAME@HOST", help="The worker's node name."
    ),
    metrics_port: int | None = typer.Option(
        None, "--metrics-port", metavar="PORT", help="Serve this worker's Prometheus metrics."
    ),
    loglevel: str = typer.Option(
        "INFO", "--loglevel", "-l", metavar="LEVEL", help="Log level: DEBUG, INFO, WARNING, ERROR."
    ),
) -> None:
    """Run a Celery worker for scans and reports (POSTURE_BROKER_URL, PostgreSQL store)."""
    from posture.logs import configure
    from posture.worker.runner import start_worker

    names = [q.strip() for q in queues.split(",") if q.strip()]
    configure(level=loglevel)
    code = start_worker(
        state(ctx),
        concurrency=concurrency,
        queues=names,
        hostname=hostname,
        loglevel=loglevel,
        metrics_port=metrics_port,
    )
    raise typer.Exit(code)


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Workers seen and their last heartbeat, tasks waiting per queue, running and failed."""
    st = service_status(state(ctx))
    if as_json:
        print(
            json.dumps(
                {
                    "checked_at": st.checked_at.isoformat(),
                    "broker": st.broker,
                    "broker_error": st.broker_error,
                    "queues": st.queues,
                    "running": st.running,
                    "failed": st.failed,
                    "workers": [
                        {
                            "name": w.name,
                            "pid": w.pid,
                            "alive": w.alive,
                            "queues": w.queues,
                            "concurrency": w.concurrency,
                            "started_at": w.started_at.isoformat(),
                            "last_seen": w.last_seen.isoformat(),
                            "stopped_at": w.stopped_at.isoformat() if w.stopped_at else None,
                            "running": w.running,
                            "processed": w.processed,
                            "failed": w.failed,
                        }
                        for w in st.workers
                    ],
                },
                indent=2,
            )
        )
        return
    console.print(f"broker: {escape(st.broker) if st.broker else '(none configured)'}")
    if st.broker_error:
        console.print(f"broker unreachable: {escape(st.broker_error)}")
    for queue, depth in sorted(st.queues.items()):
        console.print(f"queue {escape(queue)}: {depth} waiting")
    table = Table("worker", "state", "last heartbeat", "running", "processed", "failed", "queues")
    for w in st.workers:
        state_text = "alive" if w.alive else ("stopped" if w.stopped_at else "silent")
        table.add_row(
            escape(w.name),
            state_text,
            f"{w.last_seen:%Y-%m-%d %H:%M:%S} UTC",
            str(w.running),
            str(w.processed),
            str(w.failed),
            escape(", ".join(w.queues)),
        )
    console.print(table)
    console.print(
        f"{len(st.alive)} alive worker(s), {st.running} task(s) running, {st.failed} failed"
    )
