"""Tenant pages: the switcher, the dashboard, the findings browser and a finding's detail.

Every page is under ``/t/<slug>/``; the operations check that the signed-in principal may
see that tenant (an unknown one and another customer's are the same 404). Forms post
with the session's CSRF token; the operations refuse what the role may not do, whatever
the form looked like.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from posture.errors import UsageError
from posture.models import Severity
from posture.operations.dashboard import Dashboard, dashboard, show_tenant_view, visible_tenants
from posture.operations.findings import STATES, FindingQuery, page_findings, show_finding
from posture.operations.history import finding_events
from posture.operations.waivers import add_waiver
from posture.report.charts import Series, line_chart, severity_color
from posture.report.i18n import Messages
from posture.web.console import fixes
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

PAGE_SIZE = 25
PROVIDERS = ("aws", "m365", "gws", "gcp")
DEFAULT_WAIVER_DAYS = 90

router = APIRouter(route_class=ConsoleRoute)


@router.get("/")
def home(principal: SignedIn, ops: Ops) -> Response:
    if principal.must_change_password:
        return RedirectResponse("/password", status_code=303)
    tenants = visible_tenants(ops)
    if not is_provider(principal) and len(tenants) == 1:
        return RedirectResponse(f"/t/{tenants[0].slug}", status_code=303)
    return RedirectResponse("/tenants", status_code=303)


@router.get("/tenants")
def tenant_switcher(
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    tenants = visible_tenants(ops)
    if not is_provider(principal) and len(tenants) == 1:
        return RedirectResponse(f"/t/{tenants[0].slug}", status_code=303)
    context = base_context(request, principal, section="tenants", tenants=tenants)
    return render_page(request, "tenants.html.j2", context)


def trend_svg(board: Dashboard, t: Messages) -> Markup:
    """Open findings per severity at the end of each of the last twelve months."""
    severities = [s.value for s in Severity.ordered()]
    series = [
        Series(
            t(f"severity.{s}"),
            severity_color(s),
            tuple(p.open_by_severity.get(s, 0) for p in board.trend),
        )
        for s in severities
    ]
    shown = [s for s in series if any(s.values)] or series
    labels = [p.period.label for p in board.trend]
    return line_chart(
        shown, labels, title=t("web.dashboard.trend"), empty_text=t("web.dashboard.no_trend")
    )


@router.get("/t/{slug}")
def tenant_dashboard(
    slug: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    board = dashboard(ops, slug)
    context = base_context(request, principal, tenant=board.tenant, section="dashboard")
    context |= {"board": board, "trend": trend_svg(board, context["t"])}
    return render_page(request, "dashboard.html.j2", context)


@router.get("/t/{slug}/findings")
def findings_page(
    slug: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "finding.read", tenant)
    params = request.query_params
    filters = {
        "severity": params.get("severity", ""),
        "state": params.get("state", "open") or "open",
        "provider": params.get("provider", ""),
        "policy": params.get("policy", "").strip(),
        "q": params.get("q", "").strip(),
    }
    error = ""
    rows: list[Any] = []
    total = 0
    page = page_number(request)
    query = FindingQuery(
        tenant=tenant.slug,
        status=filters["state"],
        severities=(filters["severity"],) if filters["severity"] else (),
        policies=(filters["policy"],) if filters["policy"] else (),
        providers=(filters["provider"],) if filters["provider"] else (),
        text=filters["q"],
    )
    try:
        found = page_findings(ops, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        pages = max(1, math.ceil(found.total / PAGE_SIZE))
        if page > pages:  # past the end (the list shrank): the last page
            page = pages
            found = page_findings(ops, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        rows, total = list(found.rows), found.total
    except UsageError as exc:
        error = exc.message
    pages = max(1, math.ceil(total / PAGE_SIZE))
    context = base_context(request, principal, tenant=tenant, section="findings")
    context |= {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "filters": filters,
        "error": error,
        "severities": [s.value for s in Severity.ordered()],
        "states": STATES,
        "providers": PROVIDERS,
    }
    return render_page(request, "findings.html.j2", context)


@router.get("/t/{slug}/findings/{finding_id}")
def finding_page(
    slug: str,
    finding_id: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    detail = show_finding(ops, finding_id, tenant.slug)
    row, events = detail.row, detail.events
    today = datetime.now(UTC).date()
    context = base_context(request, principal, tenant=tenant, section="findings")
    context |= {
        "row": row,
        "events": events,
        "default_expiry": (today + timedelta(days=DEFAULT_WAIVER_DAYS)).isoformat(),
        "today": today.isoformat(),
        "fix": fixes.fix_actions(ops, principal, tenant, row),
        "error": request.query_params.get("error", ""),
    }
    return render_page(request, "finding.html.j2", context)


@router.post("/t/{slug}/findings/{finding_id}/waive", dependencies=[Depends(csrf_protect)])
def waive_finding(
    slug: str,
    finding_id: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
    reason: Annotated[str, Form()] = "",
    expires: Annotated[str, Form()] = "",
    approved_by: Annotated[str, Form()] = "",
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "waiver.write", tenant)
    row = show_finding(ops, finding_id, tenant.slug).row
    try:
        add_waiver(
            ops,
            tenant.slug,
            reason=reason,
            requested_by=principal.username,
            approved_by=approved_by.strip() or principal.username,
            expires=expires,
            policy=row.policy_id,
            resource=row.resource_uid,
        )
    except UsageError as exc:
        context = base_context(request, principal, tenant=tenant, section="findings")
        context |= {
            "row": row,
            "events": finding_events(ops, row.id, tenant.slug),
            "default_expiry": expires,
            "today": datetime.now(UTC).date().isoformat(),
            "fix": fixes.fix_actions(ops, principal, tenant, row),
            "error": exc.message,
        }
        return render_page(request, "finding.html.j2", context, status_code=400)
    return RedirectResponse(f"/t/{tenant.slug}/findings/{row.id}?notice=waived", status_code=303)


@router.post("/t/{slug}/findings/{finding_id}/fix/{action}", dependencies=[Depends(csrf_protect)])
def fix_finding(
    slug: str,
    finding_id: str,
    action: str,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "fix.approve" if action == "approve" else "fix.request", tenant)
    row = show_finding(ops, finding_id, tenant.slug).row
    notice = fixes.run_action(ops, tenant, row, action)
    return RedirectResponse(f"/t/{tenant.slug}/findings/{row.id}?notice={notice}", status_code=303)
