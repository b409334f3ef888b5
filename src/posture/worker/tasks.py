"""The workers' tasks: one connection of a scan, one report. Each calls the same code the
in-process path calls; the worker's operations context is built once per process."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from posture.errors import ConfigurationError
from posture.logs import log_context
from posture.operations import Operations
from posture.scan import TargetJob, scan_target
from posture.worker import runner as _signals  # noqa: F401  (the workers' signal handlers)
from posture.worker.app import app

log = logging.getLogger("posture.worker")
_ops: Operations | None = None


def configure(ops: Operations) -> None:
    """Use ``ops`` (the CLI's global options) for this process's tasks."""
    global _ops
    _ops = ops


def worker_ops() -> Operations:
    """The operations context of this worker: ``posture worker``'s options, else the
    environment (``POSTURE_DATABASE_URL``, ``POSTURE_POLICIES_DIRS``, ``POSTURE_SCANNERS_DIRS``
    as path lists)."""
    global _ops
    if _ops is None:
        _ops = Operations(
            db_url=os.environ.get("POSTURE_DATABASE_URL") or None,
            policy_dirs=_dirs("POSTURE_POLICIES_DIRS"),
            scanner_dirs=_dirs("POSTURE_SCANNERS_DIRS"),
            actor="worker",
            source=f"worker {os.uname().nodename}",
        )
    return _ops


def _dirs(name: str) -> list[Path]:
    return [Path(p) for p in os.environ.get(name, "").split(os.pathsep) if p]


def require_shared_store(url: str) -> None:
    """Workers and the scanning process share one store: refuse SQLite."""
    if url.startswith("sqlite"):
        raise ConfigurationError(
            "Celery workers need a shared PostgreSQL store, not SQLite",
            hint="set POSTURE_DATABASE_URL (or --db) to postgresql://USER@HOST/DB for the "
            "workers and for the process that starts the scans",
        )


@app.task(name="posture.scan_connection", acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def scan_connection(job: dict[str, Any]) -> dict[str, Any]:
    """Collect, evaluate and reconcile one connection of a scan (a repeat is a no-op)."""
    ops = worker_ops()
    store = ops.store()
    require_shared_store(str(store.engine.url))
    target = TargetJob.from_json(job)
    with log_context(scan=target.scan_id, connection=target.connection):
        outcome = scan_target(store, ops.catalog(), target)
    log.info("connection %s of scan %s: %s", target.connection, target.scan_id, outcome.status)
    return outcome.as_json()


@app.task(name="posture.render_report", acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def render_report(
    tenant: str,
    formats: list[str],
    languages: list[str],
    period: str | None,
    out: str,
) -> list[str]:
    """Render a tenant's report files into ``out`` (a folder the worker can write)."""
    from posture.operations.reports import generate_report

    with log_context(tenant=tenant):
        outcome = generate_report(
            worker_ops(), tenant, formats=formats, languages=languages, period=period, out=out
        )
    return [str(p) for p in outcome.paths]


__all__ = ["configure", "render_report", "require_shared_store", "scan_connection", "worker_ops"]
