"""Per-request dependencies of the API and the console: who calls, and their operations.

Every request gets its own ``Operations`` over the app's one store and catalog, naming the
caller (actor = username, source = ``web <client ip>``), its principal and its tenant
scope, so the operations check rights and audit under the right name. The API accepts an
API token (``Authorization: Bearer pst_...``) or the console's session cookie; with the
cookie an unsafe method must also carry the session's CSRF token (``X-CSRF-Token``), so a
page on another site cannot act with a signed-in user's cookie.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, fields
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from posture.catalog import Catalog
from posture.operations import Operations
from posture.operations.access import Principal
from posture.operations.identity import session_principal, session_state, token_principal
from posture.store import Store
from posture.web.errors import ApiError, text
from posture.web.state import WebState, request_state

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(auto_error=False, description="An API token: pst_...")


@dataclass
class RequestOperations(Operations):
    """Operations of one request: the app's shared store and catalog, the caller's identity."""

    shared: WebState | None = field(default=None, repr=False)

    def store(self) -> Store:
        assert self.shared is not None
        return self.shared.store()

    def catalog(self) -> Catalog:
        assert self.shared is not None
        return self.shared.catalog()


class LoginRequired(Exception):
    """A console page was asked for without a valid session: go to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_path, safe='/')}"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"


_IDENTITY = frozenset({"actor", "source", "principal", "tenant_scope"})
# an Operations that carries the tenant scope as a field of its own gets it set as well
_SCOPED = "tenant_scope" in {f.name for f in fields(Operations)}


def _ops_for(request: Request, principal: Principal | None) -> Operations:
    shared = request_state(request)
    # the installation's settings (content folders, the executor, ...) come from the app's
    # operations; who acts comes from the request
    settings: dict[str, Any] = {
        f.name: getattr(shared.base, f.name)
        for f in fields(Operations)
        if f.init and f.name not in _IDENTITY
    }
    if _SCOPED:
        settings["tenant_scope"] = principal.tenant_scope if principal else None
    return RequestOperations(
        actor=principal.username if principal else "",
        source=f"web {client_ip(request)}",
        principal=principal,
        shared=shared,
        **settings,
    )


def anonymous_ops(request: Request) -> Operations:
    """Operations of a caller not yet signed in (the login page, token checks)."""
    return _ops_for(request, None)


def request_ops(request: Request) -> Operations:
    """Operations of the principal the request was authenticated as (set by the
    ``api_principal`` / ``console_principal`` dependency)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise ApiError("not_authenticated", text(request, "error.not_authenticated"))
    return _ops_for(request, principal)


def _signed_in(request: Request, principal: Principal) -> Principal:
    request.state.principal = principal
    request.scope.setdefault("state", {})["username"] = principal.username
    return principal


def _session_token(request: Request) -> str:
    return request.cookies.get(request_state(request).settings.session_cookie, "")


def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller of an API request: its token's principal, or its session's."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return _signed_in(request, token_principal(anonymous_ops(request), credentials.credentials))
    if request.headers.get("authorization"):
        raise ApiError("token_invalid", text(request, "error.not_authenticated"))
    token = _session_token(request)
    state = session_state(anonymous_ops(request), token) if token else None
    if state is None:
        raise ApiError("not_authenticated", text(request, "error.not_authenticated"))
    if request.method not in SAFE_METHODS:
        _check_csrf(request, state.csrf_token, request.headers.get(_csrf_header(request), ""))
    return _signed_in(request, state.principal)


def console_principal(request: Request) -> Principal:
    """The signed-in user of a console page; without a session, a redirect to /login."""
    token = _session_token(request)
    principal = session_principal(anonymous_ops(request), token) if token else None
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return _signed_in(request, principal)


async def csrf_protect(request: Request) -> None:
    """An unsafe console request carries the session's CSRF token, as the form field
    ``csrf_token`` or the ``X-CSRF-Token`` header."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(_csrf_header(request), "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(request_state(request).settings.csrf_field)
        sent = value if isinstance(value, str) else ""
    token = _session_token(request)
    state = session_state(anonymous_ops(request), token) if token else None
    _check_csrf(request, state.csrf_token if state else "", sent)


def _csrf_header(request: Request) -> str:
    return request_state(request).settings.csrf_header.lower()


def _check_csrf(request: Request, expected: str, sent: str) -> None:
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise ApiError("csrf_failed", text(request, "error.csrf"))


def api_ops(
    request: Request, principal: Annotated[Principal, Depends(api_principal)]
) -> Operations:
    """The operations of an authenticated API caller."""
    return _ops_for(request, principal)


def console_ops(
    request: Request, principal: Annotated[Principal, Depends(console_principal)]
) -> Operations:
    """The operations of a signed-in console user."""
    return _ops_for(request, principal)


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
ApiOps = Annotated[Operations, Depends(api_ops)]
ConsolePrincipal = Annotated[Principal, Depends(console_principal)]
ConsoleOps = Annotated[Operations, Depends(console_ops)]
CsrfProtected = Depends(csrf_protect)  # as a route dependency: dependencies=[CsrfProtected]
