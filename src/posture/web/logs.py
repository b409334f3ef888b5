"""Logs of the web face: one JSON object per line (or plain text), on standard error.

Access-log records carry their fields (request id, method, path, status, user, duration)
as attributes; the JSON formatter of ``posture.logs`` writes them as keys, so a log
pipeline can filter by request id without parsing text. The scheduler beside the web app
logs in the same format (``posture serve --json-logs/--text-logs``).
"""

from __future__ import annotations

import logging

from posture.logs import handler_for


def configure_web_logging(*, json_lines: bool = True) -> logging.Handler:
    """Send ``posture.web`` (and its access log) to standard error; returns the handler."""
    return handler_for("posture.web", json=json_lines)
