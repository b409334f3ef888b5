"""Where the workers' broker is and which queues they serve (plain values, no Celery import)."""

from __future__ import annotations

import os

SCAN_QUEUE = "posture.scan"
REPORT_QUEUE = "posture.report"
QUEUES = (SCAN_QUEUE, REPORT_QUEUE)


def broker_url() -> str:
    """``POSTURE_BROKER_URL`` (amqp://... for RabbitMQ, redis://.../N for Redis), or ""."""
    return os.environ.get("POSTURE_BROKER_URL", "").strip()


def safe_broker_url(url: str) -> str:
    """The URL without its password, for messages and status pages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user + ':***@' if user else ':***@'}{host}"
    return url
