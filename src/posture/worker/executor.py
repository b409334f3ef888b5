"""Executors: who runs the connections of a scan.

``InProcessExecutor`` (the default) scans them one after the other in the calling process.
``CeleryExecutor`` sends one task per connection to the workers and waits until every
connection's outcome is in the store; each task runs ``posture.scan.scan_target``, the same
transactional function the in-process path runs. The scan itself (its start, its finish,
the notifications) stays with the caller, as in-process.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

from posture.catalog import Catalog
from posture.errors import ConfigurationError
from posture.operations import Operations
from posture.scan import (
    Executor,
    ProgressFactory,
    TargetJob,
    TargetOutcome,
    record_unfinished,
    recorded_outcomes,
    run_targets_here,
)
from posture.store import Store
from posture.worker.config import broker_url, report_queue, safe_broker_url, scan_queue

log = logging.getLogger("posture.worker")
DEFAULT_TIMEOUT = 6 * 3600.0  # seconds a scan waits for its connections


class InProcessExecutor:
    """Every connection in this process, one after the other."""

    def run_targets(
        self,
        store: Store,
        catalog: Catalog,
        jobs: Sequence[TargetJob],
        progress: ProgressFactory | None = None,
    ) -> list[TargetOutcome]:
        return run_targets_here(store, catalog, jobs, progress)


class CeleryExecutor:
    """One task per connection on the workers; results are read back from the store.

    ``timeout`` bounds the wait for the whole scan: a connection no worker finished by
    then is recorded as failed (a worker that finishes it later finds it recorded and
    writes nothing). The workers load their own catalog (``posture worker``'s content
    folders): give them the same ``--policies-dir`` as the process that starts scans.
    """

    def __init__(
        self,
        *,
        timeout: float | None = None,
        poll_seconds: float = 0.25,
        queue: str | None = None,
    ) -> None:
        self.timeout = timeout if timeout is not None else _env_timeout()
        self.poll_seconds = poll_seconds
        self.queue = queue or scan_queue()

    def run_targets(
        self,
        store: Store,
        catalog: Catalog,
        jobs: Sequence[TargetJob],
        progress: ProgressFactory | None = None,
    ) -> list[TargetOutcome]:
        from posture.worker.tasks import require_shared_store, scan_connection

        require_shared_store(str(store.engine.url))
        url = broker_url()
        if url and scan_connection.app.conf.broker_url != url:
            scan_connection.app.conf.broker_url = url
        try:
            for job in jobs:
                scan_connection.apply_async(
                    args=[job.as_json()],
                    task_id=f"{job.scan_id}:{job.connection_id}",
                    queue=self.queue,
                )
        except Exception as exc:  # kombu's OperationalError: the broker is unreachable
            shown = safe_broker_url(str(scan_connection.app.conf.broker_url))
            raise ConfigurationError(
                f"cannot send the scan's connections to the broker at {shown}: {exc}",
                hint="check POSTURE_BROKER_URL and that the broker is running",
            ) from exc
        wanted = {job.connection_id for job in jobs}
        deadline = time.monotonic() + self.timeout
        done: dict[str, TargetOutcome] = {}
        while True:
            done = recorded_outcomes(store, jobs[0].scan_id) if jobs else {}
            if wanted <= set(done):
                break
            if time.monotonic() >= deadline:
                for job in jobs:
                    if job.connection_id not in done:
                        done[job.connection_id] = record_unfinished(
                            store,
                            job,
                            f"connection '{job.connection}': no worker finished it within "
                            f"{self.timeout:.0f} s (are workers running on queue {self.queue}?)",
                        )
                break
            time.sleep(self.poll_seconds)
        return [done[job.connection_id] for job in jobs]


def enqueue_report(
    tenant: str,
    *,
    formats: Sequence[str] = ("pdf",),
    languages: Sequence[str] = (),
    period: str | None = None,
    out: str,
) -> str:
    """Send a report's rendering to the workers (queue ``<prefix>.report``); its task id.

    ``out`` is a folder as the worker sees it (a shared volume in the compose file)."""
    from posture.worker.tasks import render_report

    url = broker_url()
    if url and render_report.app.conf.broker_url != url:
        render_report.app.conf.broker_url = url
    result = render_report.apply_async(
        args=[tenant, list(formats), list(languages), period, out], queue=report_queue()
    )
    return str(result.id)


def _env_timeout() -> float:
    raw = os.environ.get("POSTURE_SCAN_TIMEOUT", "")
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError as exc:
        raise ConfigurationError(
            f"POSTURE_SCAN_TIMEOUT must be a number of seconds, not '{raw}'"
        ) from exc


def configured_executor() -> Executor | None:
    """The executor ``POSTURE_EXECUTOR`` names: ``celery`` (needs ``POSTURE_BROKER_URL``),
    ``inprocess``; unset: Celery when a broker is configured, else in-process (None)."""
    choice = os.environ.get("POSTURE_EXECUTOR", "").strip().lower()
    if choice in ("", "auto"):
        return CeleryExecutor() if broker_url() else None
    if choice in ("inprocess", "in-process", "local"):
        return None
    if choice == "celery":
        if not broker_url():
            raise ConfigurationError(
                "POSTURE_EXECUTOR=celery needs a broker",
                hint="set POSTURE_BROKER_URL, e.g. amqp://guest:guest@127.0.0.1:5672// "
                "or redis://127.0.0.1:6379/0",
            )
        return CeleryExecutor()
    raise ConfigurationError(f"unknown POSTURE_EXECUTOR '{choice}'", hint="use inprocess or celery")


def use_configured_executor(ops: Operations) -> Operations:
    """Give ``ops`` the configured executor unless it already has one."""
    if ops.executor is None:
        ops.executor = configured_executor()
    return ops


__all__ = [
    "CeleryExecutor",
    "Executor",
    "InProcessExecutor",
    "configured_executor",
    "enqueue_report",
    "use_configured_executor",
]
