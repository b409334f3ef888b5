"""Single sign-on: ``/login/oidc`` sends the browser to the OpenID provider, and
``/login/oidc/callback`` signs the person in when the provider vouches for an identity
linked to an account (see :mod:`posture.web.oidc`). Both answer 404 when no provider is
configured. Whatever goes wrong, the person lands on the sign-in page with a plain
message; the details go to the log and the audit trail.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from posture.errors import (
    AccountLocked,
    NotFound,
    PostureError,
    ProviderUnavailable,
    SignInNotLinked,
    SignOnFailed,
)
from posture.operations import identity
from posture.web.console.signin import login_form, next_path, start_session
from posture.web.console.views import ConsoleRoute
from posture.web.deps import anonymous_ops
from posture.web.oidc import COOKIE, COOKIE_PATH, PENDING_SECONDS, OidcClient, Pending
from posture.web.state import request_state

log = logging.getLogger("posture.web.sso")
router = APIRouter(route_class=ConsoleRoute)


def _client(request: Request) -> OidcClient:
    client = request_state(request).oidc()
    if client is None:
        raise NotFound("single sign-on is not configured")
    return client


def _failed(request: Request, key: str, status: int, after: str = "/") -> Response:
    response = login_form(request, error=key, status_code=status, after=after)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/login/oidc")
def sso_start(request: Request) -> Response:
    client = _client(request)
    after = next_path(request.query_params.get("next", "") or "/")
    try:
        url, pending = client.begin(after)
    except PostureError as exc:
        log.warning("single sign-on could not start: %s", exc)
        return _failed(request, "web.login.sso_unavailable", 503, after)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        COOKIE,
        pending.cookie(),
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level navigation
        secure=bool(request_state(request).settings.secure_cookies),
        path=COOKIE_PATH,
    )
    return response


@router.get("/login/oidc/callback")
def sso_callback(request: Request) -> Response:
    client = _client(request)
    query = request.query_params
    pending = Pending.from_cookie(request.cookies.get(COOKIE, ""))
    state = query.get("state", "")
    if pending is None or not state or not secrets.compare_digest(pending.state, state):
        # no sign-in of this browser is under way: expired, replayed or forged
        return _failed(request, "web.login.sso_expired", 400)
    if query.get("error"):
        reason = query.get("error", "")[:100]
        log.info("the OpenID provider ended the sign-in: %s", reason)
        key = "web.login.sso_cancelled" if reason == "access_denied" else "web.login.sso_failed"
        return _failed(request, key, 401, pending.after)
    code = query.get("code", "")
    if not code:
        return _failed(request, "web.login.sso_failed", 400, pending.after)
    ops = anonymous_ops(request)
    try:
        person = client.finish(pending, code)
        principal = identity.sign_in_oidc(
            ops,
            issuer=person.issuer,
            subject=person.subject,
            email=person.email,
            email_verified=person.email_verified,
        )
    except ProviderUnavailable as exc:
        log.warning("single sign-on: %s", exc)
        return _failed(request, "web.login.sso_unavailable", 503, pending.after)
    except SignInNotLinked:
        return _failed(request, "web.login.sso_not_linked", 403, pending.after)
    except AccountLocked:
        return _failed(request, "web.login.locked", 401, pending.after)
    except SignOnFailed as exc:
        log.warning("single sign-on refused: %s", exc)
        identity.refuse_oidc(ops, issuer=client.issuer, reason=str(exc))
        return _failed(request, "web.login.sso_failed", 401, pending.after)
    except PostureError as exc:
        if getattr(exc, "code", "") != "invalid_credentials":
            raise
        return _failed(request, "web.login.sso_failed", 401, pending.after)
    response = start_session(request, principal, next_path(pending.after))
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response
