"""Logging of the long-running faces (serve, scheduler, workers): text or one JSON per line.

``configure(json=True)`` writes every record as one JSON object: ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, and the ``tenant``, ``scan`` and ``connection`` the work
is about when known (set with ``log_context``), plus ``exception`` with the traceback.
``POSTURE_LOG_FORMAT=json`` chooses it for ``posture serve`` and ``posture worker``;
``POSTURE_LOG_LEVEL`` sets the level (default INFO). The web face's access records carry
their request fields (``request_id``, ``method``, ``path``, ``status``, ``duration_ms``, ...)
as keys of the same object.
"""

from __future__ import annotations

import json as _json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

CONTEXT_KEYS = ("tenant", "scan", "connection", "task")
#: fields of a web access record (set as attributes by the web face's request middleware)
ACCESS_KEYS = ("request_id", "method", "path", "status", "client", "duration_ms", "user")
_context: ContextVar[dict[str, str]] = ContextVar("posture_log_context", default={})  # noqa: B039
_HANDLER_NAME = "posture-configured"


@contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    """Name the tenant, scan, connection or task the records logged inside the block are about."""
    current = _context.get()
    token = _context.set({**current, **{k: v for k, v in values.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Copies the current log context onto each record (``record.tenant``, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value:
                entry[key] = str(value)
        for key in ACCESS_KEYS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message [tenant=.. scan=..]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(
            f"{k}={getattr(record, k)}" for k in CONTEXT_KEYS if getattr(record, k, None)
        )
        return f"{text} [{extra}]" if extra else text


def formatter(json: bool) -> logging.Formatter:
    """The JSON or the text formatter."""
    return JsonFormatter() if json else TextFormatter()


def handler_for(logger: str, *, json: bool, level: int = logging.INFO) -> logging.Handler:
    """A standard-error handler of ``logger`` (e.g. ``posture.web``, ``posture.scheduler``)
    writing JSON or text; remove it with ``logging.getLogger(logger).removeHandler``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(json))
    handler.addFilter(ContextFilter())
    target = logging.getLogger(logger)
    target.addHandler(handler)
    target.setLevel(level)
    return handler


def configure(
    json: bool | None = None, level: int | str | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as JSON or text.

    ``json`` and ``level`` default to ``POSTURE_LOG_FORMAT`` (``json`` or ``text``) and
    ``POSTURE_LOG_LEVEL``. Calling it again replaces the handler it installed before.
    """
    if json is None:
        json = os.environ.get("POSTURE_LOG_FORMAT", "text").strip().lower() == "json"
    chosen = level if level is not None else os.environ.get("POSTURE_LOG_LEVEL", "INFO")
    if isinstance(chosen, str):
        chosen = logging.getLevelNamesMapping().get(chosen.strip().upper(), logging.INFO)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(json))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(chosen)
    return handler


__all__ = [
    "ACCESS_KEYS",
    "JsonFormatter",
    "TextFormatter",
    "configure",
    "current_context",
    "formatter",
    "handler_for",
    "log_context",
]
