"""Where the workers' broker is and which queues they serve (plain values, no Celery import).

Queue names start with ``POSTURE_QUEUE_PREFIX`` (default ``posture``): ``posture.scan`` for
the connections of scans, ``posture.report`` for reports. Installations sharing one broker
give each a prefix of its own.
"""

from __future__ import annotations

import os


def queue_prefix() -> str:
    return os.environ.get("POSTURE_QUEUE_PREFIX", "").strip() or "posture"


def scan_queue() -> str:
    return f"{queue_prefix()}.scan"


def report_queue() -> str:
    return f"{queue_prefix()}.report"


def queues() -> tuple[str, ...]:
    return (scan_queue(), report_queue())


def broker_url() -> str:
    """``POSTURE_BROKER_URL`` (amqp://... for RabbitMQ, redis://.../N for Redis), or ""."""
    return os.environ.get("POSTURE_BROKER_URL", "").strip()


def safe_broker_url(url: str) -> str:
    """The URL without its password, for messages and status pages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
