"""Google's error answers -> ``CollectionError`` / ``ConnectionFailure`` naming what to fix.

Google signals the same fix in several shapes: a token endpoint refusing the delegation
(``unauthorized_client``), a 403 with ``ACCESS_TOKEN_SCOPE_INSUFFICIENT`` or
``insufficientPermissions``, a 403 ``forbidden`` when the subject is not an administrator,
and ``SERVICE_DISABLED`` / ``accessNotConfigured`` when the API is off in the service
account's project. Each becomes one sentence naming the scope, the subject or the API.
"""

from __future__ import annotations

import re

from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from posture.connectors import discovery
from posture.connectors.google_calls import error_body, is_throttle, reasons, retry_after
from posture.errors import CollectionError

__all__ = ["api_error", "error_body", "is_throttle", "reasons", "retry_after", "token_error"]

SCOPE_REASONS = {"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions"}
DISABLED_REASONS = {"SERVICE_DISABLED", "accessNotConfigured"}


def method_scopes(api: str, call: str) -> tuple[str, ...]:
    """The scopes the shipped discovery document lists for ``call`` (any one suffices)."""
    return discovery.method_scopes(api, call)


def needed_scopes(api: str, call: str, declared: tuple[str, ...]) -> tuple[str, ...]:
    """Of a type's declared scopes, those that authorise ``call``: the ones to name."""
    accepted = set(method_scopes(api, call))
    return tuple(s for s in declared if s in accepted) or declared


def api_error(
    exc: HttpError, *, connection: str, api: str, call: str, scopes: tuple[str, ...], subject: str
) -> CollectionError:
    """The collection error of a call Google refused, after retries."""
    status = exc.resp.status
    found = reasons(exc)
    message = _short(error_body(exc).get("message") or exc.reason or "")
    where = f"connection '{connection}': {api} {call}"
    scopes = needed_scopes(api, call, scopes)
    scope_text = " or ".join(scopes) or "(none declared)"
    if DISABLED_REASONS & set(found):
        code = next(r for r in found if r in DISABLED_REASONS)
        return CollectionError(
            f"{where}: the API {api.split('.')[0]} is not enabled in the service account's "
            f"Google Cloud project ({code}); enable it there ({message})",
            code=code,
        )
    if status == 403 and SCOPE_REASONS & set(found):
        return CollectionError(
            f"{where} was denied: the token lacks the OAuth scope {scope_text}; add it to the "
            f"service account's domain-wide delegation ({message})",
            code="insufficient_scope",
            permission=" ".join(scopes),
        )
    if status in (401, 403):
        return CollectionError(
            f"{where} was denied for {subject}: the subject must be an administrator allowed to "
            f"read this data, with the OAuth scope {scope_text} delegated ({message})",
            code="forbidden",
            permission=" ".join(scopes),
        )
    code = found[0] if found else f"HTTP {status}"
    if is_throttle(exc):
        return CollectionError(
            f"{where} was still throttled after every retry (HTTP {status} {code}); scan again "
            f"later or raise the connection's max_attempts ({message})",
            code=code,
            throttled=True,
        )
    return CollectionError(f"{where} failed with HTTP {status} {code} ({message})", code=code)


def token_error(
    exc: auth_exceptions.RefreshError,
    *,
    connection: str,
    api: str,
    call: str,
    scopes: tuple[str, ...],
) -> CollectionError:
    """A token the token endpoint refused for one resource type's scopes."""
    code, detail = refresh_detail(exc)
    return CollectionError(
        f"connection '{connection}': {api} {call}: no token for the OAuth scope "
        f"{' and '.join(scopes)} ({code}: {detail}); grant it in the domain-wide delegation",
        code=code,
        permission=" ".join(scopes),
    )


def refresh_detail(exc: auth_exceptions.RefreshError) -> tuple[str, str]:
    """(error code, description) of the token endpoint's answer."""
    data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    code = str(data.get("error") or "token_refused")
    detail = str(data.get("error_description") or (exc.args[0] if exc.args else ""))
    return code, _short(detail)


def _short(value: object, limit: int = 200) -> str:
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
