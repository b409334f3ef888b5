"""Reports of a tenant: generate, list, preview, download, mark delivered; findings export.

Files are served only by a name that the tenant's report list holds, so a path or another
tenant's file name is the same 404 as a report that does not exist. The HTML preview
is served with a sandboxing Content-Security-Policy: the report's own styles apply, no
script runs and nothing is fetched.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from posture.errors import UsageError
from posture.operations.access import Principal
from posture.operations.context import Operations
from posture.operations.dashboard import show_tenant_view
from posture.operations.exports import export_findings
from posture.operations.reports import (
    generate_tenant_report,
    list_report_files,
    mark_delivered,
    report_path,
)
from posture.operations.scans import scan_tenant
from posture.report.files import safe_slug
from posture.web.console.render import render_page
from posture.web.console.views import ConsoleRoute, Ops, SignedIn, allow, base_context
from posture.web.deps import csrf_protect

PREVIEW_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}

router = APIRouter(route_class=ConsoleRoute)


def _reports_page(
    request: Request,
    ops: Operations,
    principal: Principal,
    slug: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    context = base_context(request, principal, tenant=tenant, section="reports")
    context |= {"files": list_report_files(ops, tenant.slug), "error": error}
    return render_page(request, "reports.html.j2", context, status_code=status_code)


@router.get("/t/{slug}/reports")
def reports_page(
    slug: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    return _reports_page(request, ops, principal, slug)


@router.post("/t/{slug}/reports", dependencies=[Depends(csrf_protect)])
def generate(
    slug: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
    period: Annotated[str, Form()] = "",
    formats: Annotated[list[str] | None, Form()] = None,
    languages: Annotated[list[str] | None, Form()] = None,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    try:
        generate_tenant_report(
            ops,
            tenant.slug,
            formats=formats or ["html"],
            languages=languages or [],
            period=period.strip() or None,
        )
    except UsageError as exc:
        return _reports_page(
            request, ops, principal, tenant.slug, error=exc.message, status_code=400
        )
    return RedirectResponse(f"/t/{tenant.slug}/reports?notice=generated", status_code=303)


@router.get("/t/{slug}/reports/{name}")
def download(
    slug: str,
    name: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    path = report_path(ops, slug, name)
    preview = request.query_params.get("view") == "1" and name.endswith(".html")
    media = "text/html; charset=utf-8" if name.endswith(".html") else "application/pdf"
    response = FileResponse(
        path,
        media_type=media,
        filename=name,
        content_disposition_type="inline" if preview else "attachment",
    )
    if preview:
        response.headers["content-security-policy"] = PREVIEW_POLICY
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/t/{slug}/reports/{name}/delivered", dependencies=[Depends(csrf_protect)])
def delivered(
    slug: str,
    name: str,
    principal: SignedIn,
    ops: Ops,
    to: Annotated[str, Form()] = "",
) -> Response:
    tenant = show_tenant_view(ops, slug)
    mark_delivered(ops, tenant.slug, name, to=to)
    return RedirectResponse(f"/t/{tenant.slug}/reports?notice=delivered", status_code=303)


@router.post("/t/{slug}/scan", dependencies=[Depends(csrf_protect)])
def scan_now(
    slug: str,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    tenant = show_tenant_view(ops, slug)
    allow(ops, "scan.run", tenant)
    outcome = scan_tenant(ops, tenant.slug)
    notice = "scanned" if outcome.status == "succeeded" else "scan_incomplete"
    return RedirectResponse(f"/t/{tenant.slug}?notice={notice}", status_code=303)


@router.get("/t/{slug}/export/findings.{fmt}")
def export(
    slug: str,
    fmt: str,
    request: Request,
    principal: SignedIn,
    ops: Ops,
) -> Response:
    if fmt not in EXPORT_TYPES:
        raise UsageError(f"no export format '{fmt}'")
    tenant = show_tenant_view(ops, slug)
    allow(ops, "export.run", tenant)
    allow(ops, "finding.read", tenant)
    outcome = export_findings(ops, tenant.slug, fmt=fmt, lang=request.query_params.get("lang"))
    name = f"posture-{safe_slug(tenant.slug)}-findings.{fmt}"
    return Response(
        outcome.text,
        media_type=EXPORT_TYPES[fmt],
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
