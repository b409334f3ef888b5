"""One Google API listing, made at most once per scan: paging, retry, accounting, errors.

``execute()`` retries nothing unless told and its back-off ignores ``Retry-After``; here a
429 or 5xx (and the Admin SDK's 403 ``rateLimitExceeded``) is retried after the delay the
server asked for, and counted as a throttle of the resource type that made the call.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from posture.connectors.gws.client import GwsTarget
from posture.connectors.gws.errors import api_error, is_throttle, retry_after, token_error
from posture.connectors.inventory import Inventory
from posture.errors import CollectionError

MAX_RETRY_AFTER = 60.0


class CallRunner:
    """Runs listings for the collector and remembers their items for the scan."""

    def __init__(
        self,
        target: GwsTarget,
        inventory: Inventory,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self.inventory = inventory
        self.sleep = sleep
        self._cache: dict[str, list[Any] | dict[str, Any]] = {}
        self._lock = threading.Lock()

    def items(
        self,
        resource_type: str,
        api: str,
        call: str,
        args: dict[str, Any],
        items: str | None,
        scopes: tuple[str, ...],
    ) -> list[Any] | dict[str, Any]:
        """Every item of ``call`` across pages (``items`` given), or its one answer."""
        key = json.dumps([api, call, args, items], sort_keys=True, default=str)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = self._run(resource_type, api, call, args, items, scopes)
        with self._lock:
            self._cache[key] = value
        return value

    def _run(
        self,
        resource_type: str,
        api: str,
        call: str,
        args: dict[str, Any],
        items: str | None,
        scopes: tuple[str, ...],
    ) -> list[Any] | dict[str, Any]:
        path, _, method = call.rpartition(".")
        collection = self.target.client(api, scopes)
        for part in path.split("."):
            collection = getattr(collection, part)()
        request = getattr(collection, method)(**args)
        if items is None:
            answer = self._execute(resource_type, api, call, request, scopes)
            return answer if isinstance(answer, dict) else {}
        out: list[Any] = []
        pager = getattr(collection, f"{method}_next", None)
        while request is not None:
            answer = self._execute(resource_type, api, call, request, scopes)
            out.extend((answer or {}).get(items) or [])  # Google omits an empty list
            if pager is None and (answer or {}).get("nextPageToken"):
                raise CollectionError(
                    f"connection '{self.target.connection}': {api} {call} returned a next page, "
                    "but the method has no pageToken parameter in its discovery document",
                    code="UnpagedList",
                )
            request = pager(request, answer) if pager else None
        return out

    def _execute(
        self, resource_type: str, api: str, call: str, request: Any, scopes: tuple[str, ...]
    ) -> Any:
        attempts = self.target.settings.max_attempts
        for attempt in range(1, attempts + 1):
            self.inventory.count(resource_type, calls=1)
            try:
                return request.execute(num_retries=0)
            except HttpError as exc:
                if is_throttle(exc) and attempt < attempts:
                    self.inventory.count(resource_type, throttles=1)
                    asked = retry_after(exc)
                    delay = asked if asked is not None else min(0.5 * 2**attempt, 30.0)
                    self.sleep(min(delay, MAX_RETRY_AFTER))
                    continue
                self.inventory.count(resource_type, errors=1)
                raise api_error(
                    exc,
                    connection=self.target.connection,
                    api=api,
                    call=call,
                    scopes=scopes,
                    subject=self.target.settings.admin_email,
                ) from exc
            except auth_exceptions.RefreshError as exc:
                self.inventory.count(resource_type, errors=1)
                raise token_error(
                    exc, connection=self.target.connection, api=api, call=call, scopes=scopes
                ) from exc
            except (
                OSError,
                ssl.SSLError,
                httplib2.HttpLib2Error,
                auth_exceptions.TransportError,
            ) as exc:
                self.inventory.count(resource_type, errors=1)
                raise CollectionError(
                    f"connection '{self.target.connection}': {api} {call} could not reach "
                    f"{self.target.settings.root_url or 'Google'} ({type(exc).__name__}: {exc})",
                    code="unreachable",
                ) from exc
        raise AssertionError("unreachable")  # the loop returns or raises
