"""One Google Workspace API listing, made at most once per scan (paging, retry on 429/5xx
and the Admin SDK's 403 ``rateLimitExceeded`` after ``Retry-After``, accounting) through the
runner shared with the Google Cloud connector; errors name the OAuth scope or the subject.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any

import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from posture.connectors.google_calls import GoogleCalls
from posture.connectors.gws.client import GwsTarget
from posture.connectors.gws.errors import api_error, token_error
from posture.connectors.inventory import Inventory
from posture.errors import CollectionError


def _page_items(answer: dict[str, Any], key: str) -> list[Any]:
    return list(answer.get(key) or [])  # Google omits an empty list


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
        self.calls = GoogleCalls(
            inventory,
            client=lambda api, scopes: target.client(api, scopes),
            failure=self._failure,
            items=_page_items,
            max_attempts=target.settings.max_attempts,
            connection=target.connection,
            sleep=sleep,
        )

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
        return self.calls.items(resource_type, api, call, args, items, scopes)

    def _failure(self, exc: Exception, api: str, call: str, scopes: Any) -> CollectionError:
        connection = self.target.connection
        if isinstance(exc, HttpError):
            return api_error(
                exc,
                connection=connection,
                api=api,
                call=call,
                scopes=tuple(scopes),
                subject=self.target.settings.admin_email,
            )
        if isinstance(exc, auth_exceptions.RefreshError):
            return token_error(exc, connection=connection, api=api, call=call, scopes=tuple(scopes))
        if isinstance(
            exc, (OSError, ssl.SSLError, httplib2.HttpLib2Error, auth_exceptions.TransportError)
        ):
            return CollectionError(
                f"connection '{connection}': {api} {call} could not reach "
                f"{self.target.settings.root_url or 'Google'} ({type(exc).__name__}: {exc})",
                code="unreachable",
            )
        raise exc
