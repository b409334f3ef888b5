"""The service mode's own state: worker heartbeats, queue depth, tasks running and failed.

Workers report themselves with ``record_heartbeat`` (every few seconds, from their main
process) and ``worker_stopped``; ``service_status`` is what an operator (the operations
page, ``posture service status``) reads: which workers were seen and when, which are alive,
how many tasks wait in each queue of the broker, run and failed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from posture.operations.context import Operations
from posture.store import WorkerHeartbeat
from posture.store.types import utcnow

HEARTBEAT_SECONDS = 10.0
# a worker whose last heartbeat is older than this is reported as not alive
ALIVE_WITHIN = timedelta(seconds=3 * HEARTBEAT_SECONDS)

QueueDepths = Callable[[], Mapping[str, int]]


@dataclass(frozen=True)
class WorkerBeat:
    """What a worker says about itself at each heartbeat."""

    name: str
    pid: int
    queues: Sequence[str]
    concurrency: int
    running: int
    processed: int


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    pid: int
    queues: list[str]
    concurrency: int
    started_at: datetime
    last_seen: datetime
    stopped_at: datetime | None
    alive: bool
    running: int
    processed: int
    failed: int


@dataclass(frozen=True)
class ServiceStatus:
    checked_at: datetime
    workers: list[WorkerStatus]
    queues: dict[str, int] = field(default_factory=dict)  # tasks waiting, per queue
    broker: str = ""  # the broker URL without its password ("": no broker configured)
    broker_error: str = ""  # why the queue depth could not be read

    @property
    def alive(self) -> list[WorkerStatus]:
        return [w for w in self.workers if w.alive]

    @property
    def running(self) -> int:
        return sum(w.running for w in self.alive)

    @property
    def failed(self) -> int:
        return sum(w.failed for w in self.workers)


def require_service(ops: Operations) -> None:
    """Only a principal allowed ``service.operate`` (or the local operator) sees the service."""
    if getattr(ops, "principal", None) is None:
        return
    access = importlib.import_module("posture.operations.access")
    access.require(ops, "service.operate")


def record_heartbeat(ops: Operations, beat: WorkerBeat, *, now: datetime | None = None) -> None:
    """Insert or refresh the worker's row (a restarted worker under the same name starts over)."""
    moment = now or utcnow()
    with ops.session() as session:
        row = session.get(WorkerHeartbeat, beat.name, with_for_update=True)
        if row is None or row.stopped_at is not None or row.pid != beat.pid:
            if row is None:
                row = WorkerHeartbeat(name=beat.name)
            row.started_at, row.stopped_at, row.failed = moment, None, 0
        row.pid = beat.pid
        row.queues = list(beat.queues)
        row.concurrency = beat.concurrency
        row.running = beat.running
        row.processed = beat.processed
        row.last_seen = moment
        session.add(row)


def count_failed_task(ops: Operations, worker: str) -> None:
    """One more task of ``worker`` ended in an error."""
    with ops.session() as session:
        session.execute(
            update(WorkerHeartbeat)
            .where(col(WorkerHeartbeat.name) == worker)
            .values(failed=col(WorkerHeartbeat.failed) + 1)
        )


def worker_stopped(ops: Operations, name: str, *, now: datetime | None = None) -> None:
    """The worker shut down cleanly: it is no longer counted as alive."""
    with ops.session() as session:
        row = session.get(WorkerHeartbeat, name)
        if row is not None:
            row.stopped_at = now or utcnow()
            row.running = 0
            session.add(row)


def service_status(
    ops: Operations,
    *,
    queue_depths: QueueDepths | None = None,
    broker: str | None = None,
    now: datetime | None = None,
) -> ServiceStatus:
    """Workers seen (newest heartbeat first), and the depth of each queue of the broker.

    ``queue_depths`` reads the broker; by default the one ``POSTURE_BROKER_URL`` names,
    when set. A broker that cannot be reached is reported in ``broker_error``.
    """
    require_service(ops)
    moment = now or utcnow()
    with ops.session() as session:
        rows = list(
            session.exec(select(WorkerHeartbeat).order_by(col(WorkerHeartbeat.last_seen).desc()))
        )
    workers = [
        WorkerStatus(
            name=r.name,
            pid=r.pid,
            queues=list(r.queues),
            concurrency=r.concurrency,
            started_at=r.started_at,
            last_seen=r.last_seen,
            stopped_at=r.stopped_at,
            alive=r.stopped_at is None and moment - r.last_seen <= ALIVE_WITHIN,
            running=r.running if r.stopped_at is None else 0,
            processed=r.processed,
            failed=r.failed,
        )
        for r in rows
    ]
    if queue_depths is None:
        from posture.worker.config import broker_url, safe_broker_url

        url = broker_url()
        if url:
            from posture.worker.broker import queue_depths as read_depths

            broker = safe_broker_url(url)

            def queue_depths() -> Mapping[str, int]:
                return read_depths(url)

    depths: dict[str, int] = {}
    error = ""
    if queue_depths is not None:
        try:
            depths = dict(queue_depths())
        except Exception as exc:  # the broker is down: say so, keep the workers' view
            error = f"{type(exc).__name__}: {exc}"
    return ServiceStatus(moment, workers, depths, broker or "", error)


__all__ = [
    "ALIVE_WITHIN",
    "HEARTBEAT_SECONDS",
    "ServiceStatus",
    "WorkerBeat",
    "WorkerStatus",
    "count_failed_task",
    "record_heartbeat",
    "service_status",
    "worker_stopped",
]
