"""Schedules, notification channels, the audit log and users.

Each form posts to an operation that checks the reader's rights again; a user's one-time
password is shown once, on the page that answers the form that created it, never stored
in a URL or a cookie.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from posture.errors import PostureError, UsageError
from posture.operations import identity
from posture.operations.access import Principal, Role
from posture.operations.audit import AuditQuery, export_audit, page_audit, parse_moment
from posture.operations.context import Operations
from posture.operations.dashboard import show_tenant_view, visible_tenants
from posture.operations.notifications import add_channel, list_channels, remove_channel, send_test
from posture.operations.schedules import add_schedule, list_schedules, remove_schedule
from posture.operations.service import service_status
from posture.web.console.render import render_page
from posture.web.console.views import (
    ConsoleRoute,
    Ops,
    SignedIn,
    allow,
    base_context,
    is_provider,
    page_number,
)
from posture.web.deps import csrf_protect

AUDIT_PAGE = 200
SCHEDULE_KINDS = ("scan", "monthly_report", "retention")
CHANNEL_KINDS = ("email", "slack", "teams", "webhook")

router = APIRouter(route_class=ConsoleRoute)


# --- schedules ------------------------------------------------------------------


def _schedules(
    request: Request, ops: Operations, principal: Principal, slug: str, error: str = ""
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "schedule.write", tenant)
    context = base_context(request, principal, tenant=tenant, section="schedules")
    context |= {
        "schedules": list_schedules(ops, tenant.slug),
        "kinds": SCHEDULE_KINDS,
        "error": error,
    }
    return render_page(request, "schedules.html.j2", context, status_code=400 if error else 200)


@router.get("/t/{slug}/schedules")
def schedules_page(
    slug: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    return _schedules(request, ops, principal, slug)


@router.post("/t/{slug}/schedules", dependencies=[Depends(csrf_protect)])
def schedule_add(
    slug: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
    kind: Annotated[str, Form()] = "",
    cron: Annotated[str, Form()] = "",
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "schedule.write", tenant)
    try:
        add_schedule(ops, tenant.slug, kind, cron=cron.strip() or None)
    except UsageError as exc:
        return _schedules(request, ops, principal, tenant.slug, exc.message)
    return RedirectResponse(f"/t/{tenant.slug}/schedules?notice=saved", status_code=303)


@router.post("/t/{slug}/schedules/{schedule_id}/remove", dependencies=[Depends(csrf_protect)])
def schedule_remove(
    slug: str,
    schedule_id: str,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "schedule.write", tenant)
    remove_schedule(ops, schedule_id, tenant.slug)
    return RedirectResponse(f"/t/{tenant.slug}/schedules?notice=removed", status_code=303)


# --- notification channels ---------------------------------------------------------


def _channels(
    request: Request,
    ops: Operations,
    principal: Principal,
    slug: str,
    *,
    error: str = "",
    test: str = "",
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "channel.write", tenant)
    context = base_context(request, principal, tenant=tenant, section="channels")
    context |= {
        "channels": list_channels(ops, tenant.slug),
        "kinds": CHANNEL_KINDS,
        "error": error,
        "test": test,
    }
    return render_page(request, "channels.html.j2", context, status_code=400 if error else 200)


@router.get("/t/{slug}/channels")
def channels_page(
    slug: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    return _channels(request, ops, principal, slug)


@router.post("/t/{slug}/channels", dependencies=[Depends(csrf_protect)])
def channel_add(
    slug: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    target: Annotated[str, Form()] = "",
    min_severity: Annotated[str, Form()] = "",
) -> Response:
    """``target``: the recipients (e-mail), the URL (webhook) or the variable holding it."""
    tenant = show_tenant_view(ops, slug)
    allow(ops, "channel.write", tenant)
    value = target.strip()
    settings: dict[str, Any]
    if kind == "email":
        settings = {"recipients": [a.strip() for a in value.split(",") if a.strip()]}
    elif kind == "webhook":
        settings = {"url": value}
    else:
        settings = {"url_env": value}
    try:
        add_channel(
            ops, tenant.slug, name, kind, settings=settings, min_severity=min_severity or None
        )
    except UsageError as exc:
        return _channels(request, ops, principal, tenant.slug, error=exc.message)
    return RedirectResponse(f"/t/{tenant.slug}/channels?notice=saved", status_code=303)


@router.post("/t/{slug}/channels/{name}/remove", dependencies=[Depends(csrf_protect)])
def channel_remove(
    slug: str,
    name: str,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "channel.write", tenant)
    remove_channel(ops, tenant.slug, name)
    return RedirectResponse(f"/t/{tenant.slug}/channels?notice=removed", status_code=303)


@router.post("/t/{slug}/channels/{name}/test", dependencies=[Depends(csrf_protect)])
def channel_test(
    slug: str,
    name: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "channel.write", tenant)
    outcome = send_test(ops, tenant.slug, name)
    return _channels(request, ops, principal, tenant.slug, test=outcome.error or "sent")


# --- audit log ---------------------------------------------------------------------


def _audit_query(request: Request, *, limit: int | None) -> tuple[AuditQuery, dict[str, str]]:
    params = request.query_params
    filters = {
        "tenant": params.get("tenant", "").strip(),
        "action": params.get("action", "").strip(),
        "since": params.get("since", "").strip(),
        "until": params.get("until", "").strip(),
    }
    query = AuditQuery(
        tenant=filters["tenant"] or None,
        actions=(filters["action"],) if filters["action"] else (),
        since=parse_moment(filters["since"] or None, "since"),
        until=parse_moment(filters["until"] or None, "until"),
        limit=limit,
    )
    return query, filters


@router.get("/audit")
def audit_page(
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    allow(ops, "audit.read")
    error = ""
    entries: list[Any] = []
    filters: dict[str, str] = {}
    total = 0
    page = page_number(request)
    try:
        query, filters = _audit_query(request, limit=None)
        found = page_audit(ops, query, offset=(page - 1) * AUDIT_PAGE, limit=AUDIT_PAGE)
        entries, total = found.entries, found.total
    except UsageError as exc:
        error = exc.message
    pages = max(1, math.ceil(total / AUDIT_PAGE))
    context = base_context(request, principal, section="audit")
    context |= {
        "page": page,
        "pages": pages,
        "total": total,
        "entries": entries,
        "filters": filters,
        "error": error,
        "tenants": visible_tenants(ops),
    }
    return render_page(request, "audit.html.j2", context, status_code=400 if error else 200)


@router.get("/audit/export.{fmt}")
def audit_export(
    fmt: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    if fmt not in ("jsonl", "csv"):
        raise UsageError(f"no audit export format '{fmt}'")
    allow(ops, "audit.read")
    allow(ops, "export.run")
    query, _ = _audit_query(request, limit=None)
    with tempfile.TemporaryDirectory(prefix="posture-audit-") as folder:
        target = Path(folder) / f"audit.{fmt}"
        export_audit(ops, target, query, fmt=fmt)
        payload = target.read_bytes()
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return Response(
        payload,
        media_type=media,
        headers={
            "content-disposition": f'attachment; filename="posture-audit.{fmt}"',
            "cache-control": "no-store",
        },
    )


# --- users -------------------------------------------------------------------------


def _roles_for(principal: Principal) -> list[str]:
    if is_provider(principal):
        return [r.value for r in Role]
    return [Role.CUSTOMER_ADMIN.value, Role.CUSTOMER_VIEWER.value]


def _users(
    request: Request,
    ops: Operations,
    principal: Principal,
    *,
    error: str = "",
    created: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    tenants = visible_tenants(ops)
    own = None if is_provider(principal) else (tenants[0].slug if tenants else None)
    context = base_context(request, principal, section="users")
    context |= {
        "users": identity.list_users(ops, tenant=own),
        "roles": _roles_for(principal),
        "tenants": tenants,
        "error": error,
        "created": created,
    }
    return render_page(request, "users.html.j2", context, status_code=status_code)


@router.get("/users")
def users_page(
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    allow(ops, "user.manage")
    return _users(request, ops, principal)


@router.post("/users", dependencies=[Depends(csrf_protect)])
def user_add(
    request: Request,
    principal: SignedIn,
    ops: Ops,
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    tenant: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "ja",
    email: Annotated[str, Form()] = "",
) -> Response:
    try:
        info, one_time = identity.add_user(
            ops,
            username.strip(),
            role=Role(role),
            tenant=tenant.strip() or None,
            display_name=display_name.strip(),
            locale=locale if locale in ("ja", "en") else "ja",
            email=email.strip() or None,
        )
    except ValueError:
        return _users(request, ops, principal, error=f"unknown role '{role}'", status_code=400)
    except PostureError as exc:
        if str(getattr(exc, "code", "")) in ("not_found", "forbidden"):
            raise
        return _users(request, ops, principal, error=exc.message, status_code=400)
    return _users(request, ops, principal, created=(info.username, one_time or ""))


@router.post("/users/{username}/email", dependencies=[Depends(csrf_protect)])
def user_email(
    request: Request,
    username: str,
    principal: SignedIn,
    ops: Ops,
    email: Annotated[str, Form()] = "",
) -> Response:
    try:
        identity.set_email(ops, username, email.strip() or None)
    except PostureError as exc:
        if str(getattr(exc, "code", "")) in ("not_found", "forbidden"):
            raise
        return _users(request, ops, principal, error=exc.message, status_code=400)
    return RedirectResponse("/users?notice=email_set", status_code=303)


@router.post("/users/{username}/disable", dependencies=[Depends(csrf_protect)])
def user_disable(
    username: str,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    identity.disable_user(ops, username)
    return RedirectResponse("/users?notice=disabled", status_code=303)


@router.get("/service")
def service_page(request: Request, principal: SignedIn, ops: Ops) -> Response:
    """Workers with their last heartbeat and the depth of each queue (provider operators)."""
    allow(ops, "service.operate")
    context = base_context(request, principal, section="service")
    context |= {"status": service_status(ops)}
    return render_page(request, "service.html.j2", context)
