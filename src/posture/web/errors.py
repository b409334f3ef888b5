"""Errors as JSON under ``/api/``: one shape, a stable code, the right HTTP status.

``{"error": {"code": ..., "message": ..., "request_id": ...}}``. The code is the
``PostureError``'s own; the status follows from it. A lookup that finds nothing (an unknown
tenant, a scan id of another tenant) is a 404 whose message names only what was asked for,
never the tenants or ids that do exist. Anything unexpected is a 500 with a generic message
in the caller's language; the traceback goes to the log under the request id, never to
the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from posture.errors import (
    CollectionError,
    ConfigurationError,
    ConnectionFailure,
    ContentError,
    PostureError,
    StoreError,
    UsageError,
)
from posture.report.i18n import load_messages

log = logging.getLogger("posture.web")

STATUS_BY_CODE: dict[str, int] = {
    "usage_error": 400,
    "validation_error": 422,
    "configuration_error": 400,
    "content_error": 500,
    "not_found": 404,
    "forbidden": 403,
    "option_not_subscribed": 403,
    "csrf_failed": 403,
    "invalid_credentials": 401,
    "account_locked": 401,
    "not_authenticated": 401,
    "token_invalid": 401,
    "token_expired": 401,
    "token_revoked": 401,
    "tenant_paused": 423,
    "limit_exceeded": 409,
    "fix_refused": 409,
    "conflict": 409,
    "connection_failure": 502,
    "credential_error": 502,
    "collection_error": 502,
    "store_error": 503,
    "scans_busy": 503,
    "method_not_allowed": 405,
    "internal_error": 500,
}

# the messages of lookups that found nothing (a ConfigurationError before a code says so)
_NOT_FOUND = re.compile(
    r"^(unknown tenant|there are no tenants|no (scan|finding|schedule|report|export|"
    r"waiver|fix run|token|user) with id|no (report|export|user|token) named|"
    r"tenant '[^']*' has no (connection|waiver|channel))"
)


class ApiError(PostureError):
    """An error of the HTTP layer itself (not authenticated, CSRF, not found route)."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.api_code = code
        self.status = status or STATUS_BY_CODE.get(code, 400)


def error_code(exc: PostureError) -> str:
    """The stable code of a posture error."""
    if isinstance(exc, ApiError):
        return exc.api_code
    declared = getattr(type(exc), "code", None)
    if isinstance(declared, str):
        if declared == "configuration_error" and _NOT_FOUND.match(exc.message):
            return "not_found"
        return declared
    if isinstance(exc, CollectionError):
        return "collection_error"
    if isinstance(exc, ConnectionFailure):
        return "connection_failure"
    if isinstance(exc, ConfigurationError):
        return "not_found" if _NOT_FOUND.match(exc.message) else "configuration_error"
    if isinstance(exc, UsageError):
        return "usage_error"
    if isinstance(exc, ContentError):
        return "content_error"
    if isinstance(exc, StoreError):
        return "store_error"
    return "internal_error"


def status_of(exc: PostureError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    return STATUS_BY_CODE.get(error_code(exc), 400)


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def language(request: Request) -> str:
    """``ja`` when the caller prefers Japanese (Accept-Language), else ``en``."""
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        if tag.startswith("ja"):
            return "ja"
        if tag.startswith("en"):
            return "en"
    return "en"


def text(request: Request, key: str, **params: object) -> str:
    return load_messages(language(request))(f"api.{key}", **params)


def error_body(
    code: str, message: str, rid: str, details: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": rid}
    if details is not None:
        error["details"] = list(details)
    return {"error": error}


def json_error(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, request_id(request), details), status, headers=headers
    )


async def posture_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PostureError)
    code, status = error_code(exc), status_of(exc)
    if status >= 500 and not isinstance(exc, ApiError):
        # a server-side problem: the detail is for the log, not for the caller
        log.error("request %s failed: %s", request_id(request), exc, exc_info=exc)
        return json_error(request, status, code, text(request, f"error.{_generic(code)}"))
    message = exc.message.split(";", 1)[0] if code == "not_found" else exc.message
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return json_error(request, status, code, message, headers=headers)


def _generic(code: str) -> str:
    return code if code in ("store_error", "collection_error", "connection_failure") else "internal"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "location": ".".join(str(p) for p in err.get("loc", ())),
            "message": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    return json_error(
        request, 422, "validation_error", text(request, "error.validation"), details=details
    )


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(
        exc.status_code, "http_error"
    )
    message = (
        text(request, f"error.http_{exc.status_code}")
        if exc.status_code
        in (
            404,
            405,
        )
        else str(exc.detail)
    )
    headers = dict(exc.headers) if exc.headers else None
    return json_error(request, exc.status_code, code, message, headers=headers)
