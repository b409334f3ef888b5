"""Running workers: one Celery worker in this process (``start_worker``), or several worker
processes supervised from here (``run_workers``, used by ``posture serve --workers N``).

Each worker's main process reports a heartbeat to the store every few seconds (name, pid,
queues, tasks running and processed) and counts its failed tasks there, so
``posture service status`` can show the workers without asking the broker.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from celery import signals

from posture.errors import ConfigurationError, UsageError
from posture.operations import Operations
from posture.operations.service import (
    HEARTBEAT_SECONDS,
    WorkerBeat,
    count_failed_task,
    record_heartbeat,
    worker_stopped,
)
from posture.worker.config import broker_url, safe_broker_url
from posture.worker.config import queues as posture_queues

log = logging.getLogger("posture.worker")


class Heartbeat:
    """Reports one worker's state to the store until stopped (a thread of its main process)."""

    def __init__(
        self,
        ops: Operations,
        name: str,
        queues: Sequence[str],
        concurrency: int,
        interval: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.ops, self.name = ops, name
        self.queues, self.concurrency, self.interval = list(queues), concurrency, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="posture-heartbeat", daemon=True)

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def beat(self) -> None:
        from celery.worker import state

        beat = WorkerBeat(
            name=self.name,
            pid=os.getpid(),
            queues=self.queues,
            concurrency=self.concurrency,
            running=len(state.active_requests),
            processed=sum(state.total_count.values()),
        )
        try:
            record_heartbeat(self.ops, beat)
        except Exception as exc:  # the store is down: keep working, try again next time
            log.warning("worker %s could not record its heartbeat: %s", self.name, exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval)
        try:
            worker_stopped(self.ops, self.name)
        except Exception as exc:
            log.warning("worker %s could not record its stop: %s", self.name, exc)


_heartbeat: Heartbeat | None = None


def _separate_store(ops: Operations) -> Operations:
    """An operations context of its own (own connection pool) for the heartbeat thread."""
    return Operations(db_url=ops.db_url, policy_dirs=ops.policy_dirs, scanner_dirs=ops.scanner_dirs)


@signals.worker_ready.connect  # type: ignore[untyped-decorator]
def _on_ready(sender: Any = None, **_: Any) -> None:
    from posture.worker.tasks import worker_ops

    global _heartbeat
    consumer = sender
    name = str(getattr(consumer, "hostname", "") or "worker")
    queues = sorted(q.name for q in consumer.task_consumer.queues) if consumer else []
    concurrency = int(getattr(consumer.pool, "limit", 0) or 0) if consumer else 0
    _heartbeat = Heartbeat(_separate_store(worker_ops()), name, queues, concurrency)
    _heartbeat.start()
    log.info("worker %s ready on %s (queues %s)", name, safe_broker_url(broker_url()), queues)


@signals.worker_shutdown.connect  # type: ignore[untyped-decorator]
def _on_shutdown(**_: Any) -> None:
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None


@signals.worker_process_init.connect  # type: ignore[untyped-decorator]
def _in_child(**_: Any) -> None:
    """A pool process: the connections inherited from the main process are not its own."""
    from posture.worker.tasks import worker_ops

    ops = worker_ops()
    if ops._store is not None:
        ops._store.engine.dispose(close=False)
    if _heartbeat is not None:
        store = _heartbeat.ops._store
        if store is not None:
            store.engine.dispose(close=False)


@signals.task_failure.connect  # type: ignore[untyped-decorator]
def _on_failure(sender: Any = None, **_: Any) -> None:
    from posture import metrics
    from posture.worker.tasks import worker_ops

    name = getattr(sender, "name", "task")
    metrics.TASKS.labels(task=name, outcome="failed").inc()
    hostname = getattr(getattr(sender, "request", None), "hostname", None)
    if hostname:
        try:
            count_failed_task(worker_ops(), str(hostname))
        except Exception as exc:
            log.warning("counting the failed task failed: %s", exc)


@signals.task_success.connect  # type: ignore[untyped-decorator]
def _on_success(sender: Any = None, **_: Any) -> None:
    from posture import metrics

    metrics.TASKS.labels(task=getattr(sender, "name", "task"), outcome="succeeded").inc()


@signals.task_prerun.connect  # type: ignore[untyped-decorator]
def _task_started(**_: Any) -> None:
    from posture import metrics

    metrics.TASKS_RUNNING.inc()


@signals.task_postrun.connect  # type: ignore[untyped-decorator]
def _task_ended(**_: Any) -> None:
    from posture import metrics

    metrics.TASKS_RUNNING.dec()


def check_worker_setup(ops: Operations) -> None:
    """A broker is configured and the store is one the workers can share."""
    from posture.store import default_url
    from posture.worker.tasks import require_shared_store

    if not broker_url():
        raise ConfigurationError(
            "a worker needs a broker",
            hint="set POSTURE_BROKER_URL, e.g. amqp://guest:guest@127.0.0.1:5672// "
            "or redis://127.0.0.1:6379/0",
        )
    require_shared_store(ops.db_url or default_url())


def start_worker(
    ops: Operations,
    *,
    concurrency: int = 1,
    queues: Sequence[str] = (),
    hostname: str | None = None,
    loglevel: str = "INFO",
    metrics_port: int | None = None,
) -> int:
    """Run one Celery worker (``concurrency`` pool processes) until it is stopped."""
    from posture.worker.app import app
    from posture.worker.tasks import configure

    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    queues = list(queues) if queues else list(posture_queues())
    unknown = sorted(set(queues) - set(posture_queues()))
    if unknown:
        raise UsageError(
            f"unknown queue '{unknown[0]}'",
            hint=f"posture's queues are {', '.join(posture_queues())}",
        )
    check_worker_setup(ops)
    configure(ops)
    ops.catalog()  # loaded once here, before the pool processes are forked
    if metrics_port:
        from prometheus_client import start_http_server

        from posture.metrics import REGISTRY
        from posture.worker.broker import watch_configured_queues

        watch_configured_queues()
        start_http_server(metrics_port, registry=REGISTRY)
    from celery.utils.nodenames import default_nodename, host_format

    app.conf.broker_url = broker_url()
    worker = app.Worker(
        concurrency=concurrency,
        queues=list(queues),
        hostname=host_format(default_nodename(hostname)),  # "name@%h": this host's name
        loglevel=loglevel,
        pool="prefork",
        optimization="fair",
        # the banner is not a log record: left out when the logs are JSON lines
        quiet=os.environ.get("POSTURE_LOG_FORMAT", "").strip().lower() == "json",
    )
    worker.start()
    return int(worker.exitcode or 0)


def worker_command(
    ops: Operations,
    *,
    concurrency: int = 1,
    queues: Sequence[str] = (),
    hostname: str | None = None,
) -> list[str]:
    """The command line of one ``posture worker`` process with these options."""
    cmd = [sys.executable, "-m", "posture"]
    if ops.db_url:
        cmd += ["--db", ops.db_url]
    for folder in ops.policy_dirs:
        cmd += ["--policies-dir", str(Path(folder))]
    for folder in ops.scanner_dirs:
        cmd += ["--scanners-dir", str(Path(folder))]
    cmd += ["worker", "--concurrency", str(concurrency)]
    if queues:
        cmd += ["--queues", ",".join(queues)]
    if hostname:
        cmd += ["--hostname", hostname]
    return cmd


def spawn_workers(
    count: int,
    ops: Operations | None = None,
    *,
    concurrency: int = 1,
    queues: Sequence[str] = (),
    env: dict[str, str] | None = None,
    prefix: str = "posture",
) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` worker processes (named ``PREFIX-N@host``) and return them."""
    if count < 1:
        raise UsageError("the number of workers must be at least 1")
    ops = ops or Operations()
    check_worker_setup(ops)
    return [
        subprocess.Popen(
            worker_command(
                ops, concurrency=concurrency, queues=queues, hostname=f"{prefix}-{i}@%h"
            ),
            env=env,
        )
        for i in range(1, count + 1)
    ]


def run_workers(
    count: int,
    ops: Operations | None = None,
    *,
    concurrency: int = 1,
    queues: Sequence[str] = (),
) -> int:
    """Run ``count`` worker processes until SIGTERM or SIGINT, then stop them all.

    Returns 0 when they all stopped cleanly, else the first non-zero exit code.
    """
    procs = spawn_workers(count, ops, concurrency=concurrency, queues=queues)
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        codes = [proc.wait() for proc in procs]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    bad = [c for c in codes if c]
    return bad[0] if bad and not stopping.is_set() else 0


__all__ = [
    "Heartbeat",
    "check_worker_setup",
    "run_workers",
    "spawn_workers",
    "start_worker",
    "worker_command",
]
