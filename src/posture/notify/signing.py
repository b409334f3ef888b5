"""HMAC-SHA256 signatures of generic webhook bodies, and their verification.

Each request carries two headers::

    X-Posture-Timestamp: 1767312000                 (Unix seconds when it was sent)
    X-Posture-Signature: sha256=<hex digest>

The digest is HMAC-SHA256, keyed with the channel's secret, over the timestamp, a dot and
the raw request body (``b"1767312000." + body``). A receiver recomputes it over the bytes it
received, compares in constant time and rejects a timestamp older than a few minutes, so a
captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Posture-Signature"
TIMESTAMP_HEADER = "X-Posture-Timestamp"
DELIVERY_HEADER = "X-Posture-Delivery"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Posture-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(
        secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256
    )
    return f"sha256={digest.hexdigest()}"


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Is ``signature`` valid for ``body`` and was it made within ``tolerance`` seconds?"""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


__all__ = ["DELIVERY_HEADER", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "sign", "verify"]
