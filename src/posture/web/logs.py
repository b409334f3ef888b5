"""Logs of the web face: one JSON object per line (or plain text), on standard error.

Access-log records carry their fields (request id, method, path, status, user, duration)
as attributes; the JSON formatter writes them as keys, so a log pipeline can filter by
request id without parsing text.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FIELDS = ("request_id", "method", "path", "status", "client", "duration_ms", "user")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_web_logging(*, json_lines: bool = True) -> logging.Handler:
    """Send ``posture.web`` (and its access log) to standard error; returns the handler."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("posture.web")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler
