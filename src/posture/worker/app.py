"""The Celery application of posture's workers.

Start workers with ``posture worker`` (or ``celery -A posture.worker.app worker``); both read
the broker from ``POSTURE_BROKER_URL`` and the store from ``POSTURE_DATABASE_URL``, which
must be PostgreSQL: every worker and the process that started the scan share it.

No result backend is used: a task's result is the connection's outcome, written to the
store in the same transaction as its findings, and the process waiting for a scan reads it
from there. Tasks are acknowledged only after they ran (``acks_late``) and requeued when
the process running them dies (``reject_on_worker_lost``); running a task twice is safe
(see ``posture.scan.scan_target``). Workers take one task at a time (prefetch 1), so a
requeued task is not stuck behind another worker's backlog.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from posture.worker.config import broker_url, report_queue, scan_queue

app = Celery("posture", include=["posture.worker.tasks"])
app.conf.update(
    broker_url=broker_url() or "amqp://guest:guest@127.0.0.1:5672//",
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    result_backend=None,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_acks_on_failure_or_timeout=True,
    worker_prefetch_multiplier=1,
    task_queues=None,
    task_create_missing_queues=True,
    task_routes=(lambda name, *_a, **_k: _route(name),),
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
    worker_redirect_stdouts=False,
    # Redis redelivers an unacknowledged task only after this long (RabbitMQ: at once
    # when the worker's connection drops); longer than any one connection's scan
    broker_transport_options={"visibility_timeout": 4 * 3600},
    enable_utc=True,
)


def _route(name: str) -> dict[str, Any]:
    """The queue of a task, read when it is sent (the prefix may come from the environment)."""
    return {"queue": report_queue() if name == "posture.render_report" else scan_queue()}


__all__ = ["app"]
