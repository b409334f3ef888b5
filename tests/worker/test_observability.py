"""Structured logs, the metrics registry and the service status an operator reads."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

from prometheus_client import generate_latest

from posture import metrics
from posture.logs import configure, log_context
from posture.operations import Operations
from posture.operations.service import (
    ALIVE_WITHIN,
    WorkerBeat,
    count_failed_task,
    record_heartbeat,
    service_status,
    worker_stopped,
)
from posture.store import Store
from posture.store.types import utcnow


def test_json_logs_carry_the_tenant_and_scan() -> None:
    out = io.StringIO()
    handler = configure(json=True, level="INFO", stream=out)
    try:
        log = logging.getLogger("posture.test")
        with log_context(tenant="acme", scan="s-1"):
            log.info("connection %s done", "prod")
        log.warning("outside")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "connection prod done"
    assert (first["level"], first["logger"]) == ("INFO", "posture.test")
    assert (first["tenant"], first["scan"]) == ("acme", "s-1")
    assert first["time"].endswith("+00:00")
    assert "tenant" not in second and second["level"] == "WARNING"


def test_text_logs_name_the_context() -> None:
    out = io.StringIO()
    handler = configure(json=False, level="INFO", stream=out)
    try:
        with log_context(connection="prod"):
            logging.getLogger("posture.test").info("hello")
    finally:
        logging.getLogger().removeHandler(handler)
    assert out.getvalue().rstrip().endswith("hello [connection=prod]")


def test_the_registry_counts_calls_and_reads_the_queue_depth_at_scrape() -> None:
    class Stats:
        def __init__(self, calls: int, errors: int) -> None:
            self.calls, self.errors, self.throttles = calls, errors, 0

    class Inventory:
        def __init__(self) -> None:
            self.stats = {"aws.s3.bucket": Stats(7, 1), "aws.ec2.security_group": Stats(2, 0)}

    def value(name: str, **labels: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    before = value("posture_api_calls_total", provider="aws", service="s3")
    metrics.count_collection("aws", Inventory())
    assert value("posture_api_calls_total", provider="aws", service="s3") == before + 7
    assert value("posture_api_errors_total", provider="aws", service="s3") >= 1
    metrics.watch_queues(lambda: {"posture.scan": 4})
    try:
        text = generate_latest(metrics.REGISTRY).decode()
    finally:
        metrics.watch_queues(None)
    assert 'posture_queue_depth{queue="posture.scan"} 4.0' in text


def test_service_status_tells_alive_silent_and_stopped_workers(store: Store) -> None:
    ops = Operations.using(store)
    now = utcnow()
    beat = WorkerBeat("w1@host", 100, ["posture.scan"], 2, running=1, processed=5)
    record_heartbeat(ops, beat, now=now - ALIVE_WITHIN - timedelta(seconds=1))
    record_heartbeat(ops, WorkerBeat("w2@host", 200, ["posture.scan"], 1, 0, 3), now=now)
    record_heartbeat(ops, WorkerBeat("w3@host", 300, ["posture.report"], 1, 0, 0), now=now)
    worker_stopped(ops, "w3@host", now=now)
    count_failed_task(ops, "w2@host")

    status = service_status(ops, queue_depths=lambda: {"posture.scan": 2}, now=now)

    by_name = {w.name: w for w in status.workers}
    assert [w.name for w in status.alive] == ["w2@host"]
    assert not by_name["w1@host"].alive and by_name["w1@host"].stopped_at is None
    assert by_name["w3@host"].stopped_at is not None and not by_name["w3@host"].alive
    assert by_name["w2@host"].failed == 1 and status.failed == 1
    assert status.queues == {"posture.scan": 2}
    # a worker restarted under the same name starts its counts over
    record_heartbeat(ops, WorkerBeat("w2@host", 201, ["posture.scan"], 1, 0, 0), now=now)
    again = {w.name: w for w in service_status(ops, queue_depths=lambda: {}, now=now).workers}
    assert again["w2@host"].failed == 0 and again["w2@host"].pid == 201


def test_an_unreachable_broker_is_reported_not_raised(store: Store) -> None:
    def down() -> dict[str, int]:
        raise ConnectionRefusedError("connection refused")

    status = service_status(Operations.using(store), queue_depths=down)
    assert status.queues == {} and "refused" in status.broker_error
