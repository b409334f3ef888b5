"""The audit log: entries filtered by tenant, action and time; exports of a selection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from posture.errors import UsageError
from posture.operations import Operations
from posture.operations.audit import AuditQuery, export_audit, page_audit, parse_moment
from posture.web.api.common import Limit, Offset, allow, counted_page, files_root
from posture.web.api.models import AuditOut, Page
from posture.web.deps import ApiOps

router = APIRouter(tags=["audit"])


def _query(
    ops: Operations, tenant: str | None, action: list[str], since: str | None, until: str | None
) -> AuditQuery:
    """The selection, checked against the caller's rights: a caller limited to some
    tenants reads one tenant's entries at a time, never the whole log."""
    if tenant is None and ops.principal is not None and ops.principal.tenant_scope is not None:
        raise UsageError("name the tenant whose audit entries to read", hint="pass tenant=SLUG")
    slug = allow(ops, "audit.read", tenant)
    return AuditQuery(
        tenant=slug,
        actions=tuple(action),
        since=parse_moment(since, "since"),
        until=parse_moment(until, "until"),
    )


@router.get("/audit", response_model=Page[AuditOut], summary="Audit entries, newest first")
def audit(
    *,
    request: Request,
    tenant: str | None = Query(None, description="A tenant slug"),
    action: Annotated[
        list[str],
        Query(default_factory=list, description="Actions or subjects (e.g. waiver); repeatable"),
    ],
    since: str | None = Query(None, description="YYYY-MM-DD or ISO 8601, inclusive"),
    until: str | None = Query(None, description="YYYY-MM-DD or ISO 8601, exclusive"),
    limit: Limit = 100,
    offset: Offset = 0,
    ops: ApiOps,
) -> dict[str, object]:
    page = page_audit(ops, _query(ops, tenant, action, since, until), offset=offset, limit=limit)
    entries = [AuditOut.model_validate(e) for e in page.entries]
    return counted_page(request, entries, page.total, offset, limit)


@router.get(
    "/audit/export",
    response_class=FileResponse,
    summary="Download the selected entries as JSON Lines (verifiable) or CSV",
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
def audit_export(
    *,
    request: Request,
    format: Literal["jsonl", "csv"] = Query("jsonl"),
    tenant: str | None = Query(None, description="A tenant slug"),
    action: Annotated[
        list[str], Query(default_factory=list, description="Actions or subjects; repeatable")
    ],
    since: str | None = Query(None, description="YYYY-MM-DD or ISO 8601, inclusive"),
    until: str | None = Query(None, description="YYYY-MM-DD or ISO 8601, exclusive"),
    ops: ApiOps,
) -> FileResponse:
    query = _query(ops, tenant, action, since, until)
    folder = files_root(request) / "_audit"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"audit-{datetime.now(UTC):%Y%m%dT%H%M%S%f}.{format}"
    outcome = export_audit(ops, folder / name, query, fmt=format)
    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    return FileResponse(outcome.path, media_type=media, filename=name)
