"""Prometheus metrics of one posture process, in a registry of its own.

``REGISTRY`` holds the counters the stages update (scans by outcome, provider API calls,
collection errors, notification deliveries) and the queue depth of the workers' broker,
read when the registry is scraped. The web face serves it at ``/metrics``, with the workers
of the whole installation read from their heartbeats in the store (``posture_workers``); a
worker serves its own with ``posture worker --metrics-port``. Counters count what the process
itself did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

SCANS = Counter(
    "posture_scans",
    "Scans finished, by outcome (succeeded, partial, failed, interrupted).",
    ["outcome"],
    registry=REGISTRY,
)
TARGETS = Counter(
    "posture_scan_connections",
    "Connections scanned, by provider and outcome (succeeded, partial, failed).",
    ["provider", "outcome"],
    registry=REGISTRY,
)
API_CALLS = Counter(
    "posture_api_calls",
    "Provider API calls made while collecting, by provider and service.",
    ["provider", "service"],
    registry=REGISTRY,
)
API_ERRORS = Counter(
    "posture_api_errors",
    "Provider API calls that failed (after retries), by provider and service.",
    ["provider", "service"],
    registry=REGISTRY,
)
API_THROTTLES = Counter(
    "posture_api_throttles",
    "Throttling responses that were retried, by provider and service.",
    ["provider", "service"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "posture_errors",
    "Errors that ended a unit of work, by where (scan_connection, task, ...) and code.",
    ["where", "code"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "posture_notification_deliveries",
    "Notification deliveries, by channel kind and outcome (sent, failed).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
TASKS = Counter(
    "posture_worker_tasks",
    "Worker tasks finished in this process, by task name and outcome.",
    ["task", "outcome"],
    registry=REGISTRY,
)
TASKS_RUNNING = Gauge(
    "posture_worker_tasks_running",
    "Worker tasks running in this process.",
    registry=REGISTRY,
)


class _Stats(Protocol):
    calls: int
    errors: int
    throttles: int


class _Inventory(Protocol):
    @property
    def stats(self) -> Mapping[str, _Stats]: ...


def service_of(resource_type: str) -> str:
    """``aws.s3.bucket`` -> ``s3``; a type without a service part is its own service."""
    parts = resource_type.split(".")
    return parts[1] if len(parts) > 2 else parts[-1]


def count_collection(provider: str, inventory: _Inventory) -> None:
    """Add one connection's API accounting (per resource type) to the counters."""
    for rtype, stats in inventory.stats.items():
        service = service_of(rtype)
        if stats.calls:
            API_CALLS.labels(provider=provider, service=service).inc(stats.calls)
        if stats.errors:
            API_ERRORS.labels(provider=provider, service=service).inc(stats.errors)
        if stats.throttles:
            API_THROTTLES.labels(provider=provider, service=service).inc(stats.throttles)


QueueDepths = Callable[[], Mapping[str, int]]


class QueueDepthCollector(Collector):
    """``posture_queue_depth{queue}``: messages waiting in each queue, read at scrape time."""

    def __init__(self) -> None:
        self.source: QueueDepths | None = None

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "posture_queue_depth", "Tasks waiting in each worker queue.", labels=["queue"]
        )
        if self.source is not None:
            try:
                depths = self.source()
            except Exception as exc:  # the broker is down: no figure rather than a failed scrape
                log.warning("reading the queue depth failed: %s", exc)
                depths = {}
            for queue, depth in sorted(depths.items()):
                family.add_metric([queue], depth)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("posture_queue_depth", "Tasks waiting in each worker queue.")


QUEUE_DEPTH = QueueDepthCollector()
REGISTRY.register(QUEUE_DEPTH)


def watch_queues(source: QueueDepths | None) -> None:
    """Read the queue depth from ``source`` at each scrape (None: report none)."""
    QUEUE_DEPTH.source = source


class WorkerView(Protocol):
    """What the store knows of one worker (``posture.operations.service.WorkerStatus``)."""

    @property
    def name(self) -> str: ...
    @property
    def alive(self) -> bool: ...
    @property
    def stopped_at(self) -> object: ...
    @property
    def running(self) -> int: ...
    @property
    def concurrency(self) -> int: ...


WorkerSource = Callable[[], Sequence[WorkerView]]
WORKER_STATES = ("alive", "stopped", "silent")


def _worker_state(worker: WorkerView) -> str:
    if worker.alive:
        return "alive"
    return "stopped" if worker.stopped_at is not None else "silent"


class WorkerCollector(Collector):
    """The workers of the whole installation, from their heartbeats in the store, read at
    scrape time: ``posture_workers{state}`` (alive, stopped cleanly, silent: no heartbeat
    lately), ``posture_workers_busy_tasks`` and ``posture_workers_capacity`` (tasks running
    and task slots, summed over the alive workers)."""

    def __init__(self) -> None:
        self.source: WorkerSource | None = None

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "posture_workers",
                "Workers known to the store, by state (alive, stopped, silent).",
                labels=["state"],
            ),
            GaugeMetricFamily("posture_workers_busy_tasks", "Tasks running on the alive workers."),
            GaugeMetricFamily(
                "posture_workers_capacity", "Task slots (concurrency) of the alive workers."
            ),
        )

    def collect(self) -> Iterator[Metric]:
        states, busy, capacity = self._families()
        if self.source is None:
            yield from (states, busy, capacity)
            return
        try:
            workers = list(self.source())
        except Exception as exc:  # the store is down: no figure rather than a failed scrape
            log.warning("reading the workers' heartbeats failed: %s", exc)
            yield from (states, busy, capacity)
            return
        counts = dict.fromkeys(WORKER_STATES, 0)
        for worker in workers:
            counts[_worker_state(worker)] += 1
        for state, count in counts.items():
            states.add_metric([state], count)
        alive = [w for w in workers if w.alive]
        busy.add_metric([], sum(w.running for w in alive))
        capacity.add_metric([], sum(w.concurrency for w in alive))
        yield from (states, busy, capacity)

    def describe(self) -> Iterator[Metric]:
        yield from self._families()


WORKERS = WorkerCollector()
REGISTRY.register(WORKERS)


def watch_workers(source: WorkerSource | None) -> None:
    """Read the workers from ``source`` at each scrape (None: report none)."""
    WORKERS.source = source


__all__ = [
    "API_CALLS",
    "API_ERRORS",
    "API_THROTTLES",
    "ERRORS",
    "NOTIFICATIONS",
    "REGISTRY",
    "SCANS",
    "TARGETS",
    "TASKS",
    "TASKS_RUNNING",
    "count_collection",
    "service_of",
    "watch_queues",
    "watch_workers",
]
