"""What every console page shares: who reads it, in which language, about which tenant.

Also the error page: a lookup that finds nothing (an unknown tenant, another tenant's
finding id, a report name that is not in the tenant's folder) is one and the same 404
page, so a guessed URL reveals nothing; a refused right is a 403 page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute

from posture.errors import PostureError
from posture.operations.access import Principal, Role, require
from posture.operations.context import Operations
from posture.operations.dashboard import TenantView, account_locale
from posture.operations.identity import session_state
from posture.web.console.render import language, messages, render_page
from posture.web.deps import anonymous_ops, console_principal, request_ops
from posture.web.errors import error_code, log, request_id, status_of
from posture.web.state import request_state

#: the signed-in principal (a page without one redirects to the sign-in page)
SignedIn = Annotated[Principal, Depends(console_principal)]
#: the operations of this request, acting for the signed-in principal
Ops = Annotated[Operations, Depends(request_ops)]

PROVIDER_ROLES = (Role.PROVIDER_ADMIN, Role.ANALYST, Role.AUDITOR)


def csrf_token(request: Request) -> str:
    """The CSRF token of the signed-in session, for the forms of the page."""
    cookie = request.cookies.get(request_state(request).settings.session_cookie, "")
    state = session_state(anonymous_ops(request), cookie) if cookie else None
    return state.csrf_token if state is not None else ""


def is_provider(principal: Principal) -> bool:
    return principal.role in PROVIDER_ROLES


def base_context(
    request: Request,
    principal: Principal | None,
    *,
    tenant: TenantView | None = None,
    section: str = "",
    **extra: Any,
) -> dict[str, Any]:
    preferred = account_locale(anonymous_ops(request), principal.user_id) if principal else None
    lang = language(request, preferred)
    return {
        "lang": lang,
        "t": messages(lang),
        "principal": principal,
        "provider": principal is not None and is_provider(principal),
        "can": (lambda permission: principal is not None and principal.can(permission)),
        "csrf": csrf_token(request) if principal is not None else "",
        "tenant": tenant,
        "section": section,
        "notice": request.query_params.get("notice", ""),
        **extra,
    }


def page_number(request: Request) -> int:
    """The list page asked for by ``?page=N`` (1 when absent or not a number)."""
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def error_page(request: Request, error: PostureError) -> Response:
    status = status_of(error)
    if status >= 500:
        log.error("request %s failed: %s", request_id(request), error, exc_info=error)
    return console_error_page(request, status, error_code(error), error.message)


def console_error_page(request: Request, status: int, code: str, message: str) -> Response:
    """The console's error page, also for the app's own handlers (``app.state.error_page``)."""
    context = base_context(request, None, status=status, code=code)
    # a 404 never repeats what was looked up (nor the tenants that exist)
    context["detail"] = "" if status in (403, 404) or status >= 500 else message
    return render_page(request, "error.html.j2", context, status_code=status)


class ConsoleRoute(APIRoute):
    """Routes whose ``PostureError`` becomes an HTML error page in the reader's language."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handle(request)
            except PostureError as error:
                return error_page(request, error)

        return run


def allow(ops: Operations, permission: str, tenant: TenantView | None = None) -> None:
    """The right an action needs, checked before an operation that does not check it itself."""
    require(ops, permission, tenant.id if tenant is not None else None)
