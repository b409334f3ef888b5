"""Google Cloud's error answers -> a ``CollectionError`` naming what to fix.

* 403 ``SERVICE_DISABLED`` / ``accessNotConfigured``: the API is not enabled in the project
  Google names (ErrorInfo ``metadata.consumer``); the error names the API to enable there.
* 403 ``IAM_PERMISSION_DENIED`` / ``PERMISSION_DENIED`` / ``forbidden``: the permission
  (ErrorInfo ``metadata.permission``, else the type's declared ones) is named.
* 429 / ``RESOURCE_EXHAUSTED`` / ``rateLimitExceeded`` / 5xx are retried by the caller; one
  still throttled after every attempt says so.
"""

from __future__ import annotations

import re
import ssl

import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from posture.connectors.google_calls import error_body, error_metadata, is_throttle, reasons
from posture.errors import CollectionError

DISABLED_REASONS = {"SERVICE_DISABLED", "accessNotConfigured"}
DENIED_REASONS = {
    "IAM_PERMISSION_DENIED",
    "PERMISSION_DENIED",
    "forbidden",
    "insufficientPermissions",
}


def api_host(api: str) -> str:
    """``iam.v1`` -> ``iam.googleapis.com``, the service name to enable."""
    return f"{api.partition('.')[0]}.googleapis.com"


def call_error(
    exc: Exception,
    *,
    connection: str,
    scope: str,
    api: str,
    call: str,
    permissions: tuple[str, ...],
    root_url: str | None,
) -> CollectionError:
    """The collection error of a call that failed after retries (other errors re-raised)."""
    where = f"connection '{connection}': {scope}: {api} {call}"
    if isinstance(exc, HttpError):
        return _http_error(exc, where, api, permissions)
    if isinstance(exc, auth_exceptions.RefreshError):
        return CollectionError(
            f"{where}: the token endpoint refused a token ({_short(exc)})",
            code="token_refused",
        )
    if isinstance(
        exc, (OSError, ssl.SSLError, httplib2.HttpLib2Error, auth_exceptions.TransportError)
    ):
        return CollectionError(
            f"{where} could not reach {root_url or api_host(api)} ({type(exc).__name__}: {exc})",
            code="unreachable",
        )
    raise exc


def _http_error(
    exc: HttpError, where: str, api: str, permissions: tuple[str, ...]
) -> CollectionError:
    status = exc.resp.status
    found = reasons(exc)
    meta = error_metadata(exc)
    message = _short(error_body(exc).get("message") or exc.reason or "")
    if DISABLED_REASONS & set(found):
        code = next(r for r in found if r in DISABLED_REASONS)
        service = meta.get("service") or api_host(api)
        consumer = meta.get("consumer") or "the project"
        return CollectionError(
            f"{where}: the API {service} is not enabled in {consumer} ({code}); enable it "
            f"with: gcloud services enable {service} --project "
            f"{consumer.removeprefix('projects/')} ({message})",
            code="SERVICE_DISABLED",
            permission="serviceusage.services.enable",
        )
    if is_throttle(exc):
        code = found[0] if found else f"HTTP {status}"
        return CollectionError(
            f"{where} was still throttled after every retry (HTTP {status} {code}); scan again "
            f"later or raise the connection's max_attempts ({message})",
            code=code,
            throttled=True,
        )
    if status in (401, 403) or DENIED_REASONS & set(found):
        permission = meta.get("permission") or _named_permission(message)
        named = permission or " or ".join(_for_api(api, permissions)) or "(none declared)"
        return CollectionError(
            f"{where} was denied: the connection's identity lacks the IAM permission {named} "
            f"there ({message})",
            code="AccessDenied",
            permission=permission or " ".join(_for_api(api, permissions)),
        )
    code = found[0] if found else f"HTTP {status}"
    return CollectionError(f"{where} failed with HTTP {status} {code} ({message})", code=code)


def absent(exc: HttpError, absent_on: list[str]) -> bool:
    """Does the answer mean "not configured" for this call (``absent_on``: statuses or reasons)?"""
    if not absent_on:
        return False
    wanted = set(absent_on)
    return str(exc.resp.status) in wanted or bool(wanted & set(reasons(exc)))


def _named_permission(message: str) -> str:
    found = re.search(r"[Pp]ermission '?([a-z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+){2,})'?", message)
    return found.group(1) if found else ""


def _for_api(api: str, permissions: tuple[str, ...]) -> list[str]:
    """The declared permissions of the API's service (iam.v1 -> iam.*), else all of them."""
    prefix = api.partition(".")[0].removeprefix("cloud")
    mine = [p for p in permissions if p.split(".", 1)[0] in (api.partition(".")[0], prefix)]
    return mine or list(permissions)


def _short(value: object, limit: int = 240) -> str:
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
