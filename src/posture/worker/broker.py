"""Reading the broker: how many messages wait in each posture queue."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from kombu.connection import Connection

from posture.worker.config import queues as posture_queues


def queue_depths(url: str, queues: Sequence[str] | None = None) -> dict[str, int]:
    """Messages waiting (not yet taken by a worker) per queue; a queue not declared yet is 0."""
    depths: dict[str, int] = {}
    with Connection(url, connect_timeout=5) as conn:  # type: ignore[no-untyped-call]
        conn.ensure_connection(max_retries=1)
        for name in queues if queues is not None else posture_queues():
            channel = conn.channel()
            try:
                ok = channel.queue_declare(queue=name, passive=True)
                depths[name] = int(ok.message_count)
            except conn.channel_errors:  # not declared yet: nothing was ever sent to it
                depths[name] = 0
            finally:
                # a channel the broker closed after a passive miss cannot be closed again
                with contextlib.suppress(Exception):
                    channel.close()
    return depths


def watch_configured_queues() -> bool:
    """Report the depth of posture's queues in ``posture.metrics`` (read at each scrape)
    when ``POSTURE_BROKER_URL`` names a broker; True when it does."""
    from posture import metrics
    from posture.worker.config import broker_url

    url = broker_url()
    if not url:
        metrics.watch_queues(None)
        return False
    metrics.watch_queues(lambda: queue_depths(url))
    return True
