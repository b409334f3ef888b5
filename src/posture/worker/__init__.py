"""Scale-out workers: Celery tasks per connection of a scan, and the processes running them.

``posture.worker.executor`` chooses who runs a scan's connections; ``posture.worker.app`` is
the Celery application; ``run_workers(count)`` starts and supervises worker processes.
Celery is imported only when a worker or the Celery executor is used.
"""

from __future__ import annotations

from typing import Any


def run_workers(count: int, *args: Any, **kwargs: Any) -> int:
    """Run ``count`` worker processes until SIGTERM or SIGINT (see ``runner.run_workers``)."""
    from posture.worker.runner import run_workers as run

    return run(count, *args, **kwargs)


__all__ = ["run_workers"]
