"""One Google API call, made at most once per scan: paging, retry, accounting.

Shared by the Google Workspace and Google Cloud connectors; each gives its own error mapping.
``execute()`` retries nothing unless told and its back-off ignores ``Retry-After``; here a
throttle (429, 5xx, or a 403 whose reason says the rate limit was hit) is retried after
the delay the server asked for and counted as a throttle of the resource type.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from googleapiclient.errors import HttpError

from posture.connectors.inventory import Inventory
from posture.errors import CollectionError

MAX_RETRY_AFTER = 60.0
THROTTLE_STATUSES = {429, 500, 502, 503, 504}
THROTTLE_REASONS = {
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
    "RATE_LIMIT_EXCEEDED",
    "RESOURCE_EXHAUSTED",
}


def error_body(exc: HttpError) -> dict[str, Any]:
    """The ``error`` object of an answer, or {} when the body is not Google's JSON."""
    try:
        data = json.loads(exc.content or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def reasons(exc: HttpError) -> list[str]:
    """Every reason the answer gives: ErrorInfo ``details``, legacy ``errors[]``, ``status``."""
    error = error_body(exc)
    out = [
        str(d.get("reason"))
        for d in error.get("details") or []
        if isinstance(d, dict) and d.get("reason")
    ]
    out += [
        str(e.get("reason"))
        for e in error.get("errors") or []
        if isinstance(e, dict) and e.get("reason")
    ]
    if error.get("status"):
        out.append(str(error["status"]))
    return out


def error_metadata(exc: HttpError) -> dict[str, str]:
    """The ErrorInfo ``metadata`` (service, consumer, permission ...) of an answer."""
    out: dict[str, str] = {}
    for detail in error_body(exc).get("details") or []:
        if isinstance(detail, dict) and isinstance(detail.get("metadata"), dict):
            out.update({str(k): str(v) for k, v in detail["metadata"].items()})
    return out


def is_throttle(exc: HttpError) -> bool:
    if exc.resp.status in THROTTLE_STATUSES:
        return True
    return exc.resp.status == 403 and bool(THROTTLE_REASONS & set(reasons(exc)))


def retry_after(exc: HttpError) -> float | None:
    """Seconds the server asked to wait (``Retry-After`` in seconds), if it said."""
    value = exc.resp.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _keyword(name: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in name)
    return out if name[:1].isalpha() else "x" + out


class GoogleCalls:
    """Runs one scan's calls for a collector and remembers their answers.

    ``client(api, context)`` gives the API's client; ``failure(exc, api, call, context)`` turns an
    exception that is not retried into the ``CollectionError`` the scope fails with (or
    re-raises it); ``context`` is what the caller passed to ``items``;
    ``items(answer, path)`` reads the list of one page.
    """

    def __init__(
        self,
        inventory: Inventory,
        *,
        client: Callable[[str, Any], Any],
        failure: Callable[[Exception, str, str, Any], CollectionError],
        items: Callable[[dict[str, Any], str], list[Any]],
        max_attempts: int,
        connection: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inventory = inventory
        self.client = client
        self.failure = failure
        self.read_items = items
        self.max_attempts = max_attempts
        self.connection = connection
        self.sleep = sleep
        self._cache: dict[str, list[Any] | dict[str, Any]] = {}
        self._pending: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def items(
        self,
        resource_type: str,
        api: str,
        call: str,
        args: dict[str, Any],
        items: str | None,
        context: Any = None,
    ) -> list[Any] | dict[str, Any]:
        """Every item of ``call`` across pages (``items`` given), or its one answer.

        A call another thread is making is waited for, not made twice; a failed call is
        not remembered, so the next type asking for it gets its own error.
        """
        key = json.dumps([api, call, args, items], sort_keys=True, default=str)
        while True:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    break
            waiting.wait()
        try:
            value = self._run(resource_type, api, call, args, items, context)
            with self._lock:
                self._cache[key] = value
            return value
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def _run(
        self,
        resource_type: str,
        api: str,
        call: str,
        args: dict[str, Any],
        items: str | None,
        context: Any,
    ) -> list[Any] | dict[str, Any]:
        path, _, method = call.rpartition(".")
        collection = self.client(api, context)
        for part in path.split(".") if path else []:
            collection = getattr(collection, part)()
        # the client's keyword for a parameter: "options.requestedPolicyVersion" ->
        # options_requestedPolicyVersion (non-alphanumerics become "_")
        request = getattr(collection, method)(**{_keyword(k): v for k, v in args.items()})
        if items is None:
            answer = self._execute(resource_type, api, call, request, context)
            return answer if isinstance(answer, dict) else {}
        out: list[Any] = []
        pager = getattr(collection, f"{method}_next", None)
        while request is not None:
            answer = self._execute(resource_type, api, call, request, context)
            out.extend(self.read_items(answer if isinstance(answer, dict) else {}, items))
            if pager is None and (answer or {}).get("nextPageToken"):
                raise CollectionError(
                    f"connection '{self.connection}': {api} {call} returned a next page, "
                    "but the method has no pageToken parameter in its discovery document",
                    code="UnpagedList",
                )
            request = pager(request, answer) if pager else None
        return out

    def _execute(self, resource_type: str, api: str, call: str, request: Any, context: Any) -> Any:
        for attempt in range(1, self.max_attempts + 1):
            self.inventory.count(resource_type, calls=1)
            try:
                return request.execute(num_retries=0)
            except HttpError as exc:
                if is_throttle(exc) and attempt < self.max_attempts:
                    self.inventory.count(resource_type, throttles=1)
                    asked = retry_after(exc)
                    delay = asked if asked is not None else min(0.5 * 2**attempt, 30.0)
                    self.sleep(min(delay, MAX_RETRY_AFTER))
                    continue
                self.inventory.count(resource_type, errors=1)
                raise self.failure(exc, api, call, context) from exc
            except Exception as exc:
                self.inventory.count(resource_type, errors=1)
                raise self.failure(exc, api, call, context) from exc
        raise AssertionError("unreachable")  # the loop returns or raises
