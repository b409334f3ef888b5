"""Sign-in, sign-out, the forced password change and the language switch.

The sign-in form has no session yet, so its CSRF token is a double-submit cookie: the
form's hidden field must equal the ``posture_login_csrf`` cookie set with the form. A
failed sign-in says only that the username or password is wrong (never which); a locked
account says so and for how long. Each sign-in issues a new session cookie, so a cookie
planted before sign-in (session fixation) is worthless.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from posture.errors import PostureError
from posture.operations import identity
from posture.operations.access import Principal
from posture.web.console.render import LANG_COOKIE, LANGUAGES, render_page
from posture.web.console.views import ConsoleRoute, Ops, SignedIn, base_context
from posture.web.deps import anonymous_ops, csrf_protect
from posture.web.settings import WebSettings
from posture.web.state import request_state

LOGIN_CSRF_COOKIE = "posture_login_csrf"
MIN_PASSWORD = 12

router = APIRouter(route_class=ConsoleRoute)


def _settings(request: Request) -> WebSettings:
    return request_state(request).settings


def next_path(target: str) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def login_form(
    request: Request,
    *,
    error: str = "",
    username: str = "",
    status_code: int = 200,
    after: str | None = None,
) -> Response:
    token = secrets.token_urlsafe(32)
    after = next_path(after or request.query_params.get("next", "") or "/")
    settings = _settings(request)
    sso = settings.oidc_name if settings.oidc_enabled else ""
    context = base_context(
        request, None, login_csrf=token, error=error, username=username, after=after, sso=sso
    )
    response = render_page(request, "login.html.j2", context, status_code=status_code)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=bool(_settings(request).secure_cookies),
        path="/login",
    )
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    return login_form(request)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    after: Annotated[str, Form()] = "/",
) -> Response:
    ops = anonymous_ops(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return login_form(request, error="web.login.expired", status_code=403)
    try:
        principal = identity.authenticate(ops, username.strip(), password)
    except PostureError as exc:
        code = str(getattr(exc, "code", ""))
        key = "web.login.locked" if code == "account_locked" else "web.login.failed"
        return login_form(request, error=key, username=username, status_code=401)
    target = "/password" if principal.must_change_password else next_path(after)
    response = start_session(request, principal, target)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def start_session(request: Request, principal: Principal, target: str) -> Response:
    """The redirect that signs a principal in: always a new session id (a cookie the
    browser brought along is ended, never reused)."""
    settings = _settings(request)
    planted = request.cookies.get(settings.session_cookie) or None
    session = identity.create_session(anonymous_ops(request), principal, replaces=planted)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        settings.session_cookie,
        session.token,
        httponly=True,
        samesite="lax",
        secure=bool(settings.secure_cookies),
        path="/",
    )
    return response


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    settings = _settings(request)
    token = request.cookies.get(settings.session_cookie, "")
    if token:
        identity.end_session(anonymous_ops(request), token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(settings.session_cookie, path="/")
    return response


@router.get("/password")
def password_page(request: Request, principal: SignedIn) -> Response:
    context = base_context(request, principal, section="password", error="")
    return render_page(request, "password.html.j2", context)


@router.post("/password", dependencies=[Depends(csrf_protect)])
def change_password(
    request: Request,
    principal: SignedIn,
    ops: Ops,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    error = ""
    if new != confirm:
        error = "web.password.mismatch"
    elif len(new) < MIN_PASSWORD:
        error = "web.password.too_short"
    if not error:
        try:
            identity.set_password(ops, principal.username, new, current=current)
        except PostureError as exc:
            code = str(getattr(exc, "code", ""))
            error = "web.password.wrong_current" if code == "invalid_credentials" else ""
            if not error:
                raise
    if error:
        context = base_context(request, principal, section="password", error=error)
        return render_page(request, "password.html.j2", context, status_code=400)
    return RedirectResponse("/?notice=password_changed", status_code=303)


@router.post("/language")
def switch_language(
    request: Request, lang: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "/"
) -> Response:
    """The reader's language, kept in a cookie (no session needed: the login page has it)."""
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            samesite="lax",
            max_age=365 * 24 * 3600,
            secure=bool(_settings(request).secure_cookies),
        )
    return response
