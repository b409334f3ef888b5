"""The outermost layer of every response: a request id, security headers, an access log,
and a last-resort JSON 500 so that no traceback ever reaches a client.

Written as plain ASGI middleware so streamed downloads pass through untouched.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posture.report.i18n import load_messages
from posture.web.errors import error_body

access_log = logging.getLogger("posture.web.access")
log = logging.getLogger("posture.web")

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# the API and the console need nothing from another origin; no inline script anywhere
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if secure:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


class RequestContext:
    """Request id, security headers, access log and the catch-all error response."""

    def __init__(self, app: ASGIApp, *, secure: bool = False) -> None:
        self.app = app
        self.headers = security_headers(secure)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"")
        given = incoming.decode("latin-1")
        rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid
        started = time.perf_counter()
        status = {"code": 0, "sent": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = int(message["status"]), True
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = [
                    *message.get("headers", []),
                    *extra,
                    (REQUEST_ID_HEADER.encode(), rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # last resort: a bug nobody mapped to an error
            log.error("request %s failed unexpectedly", rid, exc_info=exc)
            if status["sent"]:
                raise
            await self._internal_error(scope, rid, send_with_headers)
        finally:
            access_log.info(
                "%s %s %s",
                scope.get("method", ""),
                scope.get("path", ""),
                status["code"],
                extra={
                    "request_id": rid,
                    "method": scope.get("method", ""),
                    "path": scope.get("path", ""),
                    "status": status["code"],
                    "client": _client_ip(scope),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user": state.get("username", ""),
                },
            )

    async def _internal_error(self, scope: Scope, rid: str, send: Send) -> None:
        lang = "en"
        accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
        if accept.strip().lower().startswith("ja"):
            lang = "ja"
        body = json.dumps(
            error_body("internal_error", load_messages(lang)("api.error.internal"), rid),
            ensure_ascii=False,
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
