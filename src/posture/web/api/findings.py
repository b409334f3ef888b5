"""Findings: filtered, paged lists and one finding with its evidence and history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from posture.models import Severity
from posture.operations import FindingQuery
from posture.operations.findings import page_findings, show_finding
from posture.web.api.common import TENANT, Limit, Offset, allow, counted_page
from posture.web.api.models import EventOut, FindingDetailOut, FindingOut, Page
from posture.web.deps import ApiOps

router = APIRouter(tags=["findings"])


@router.get(
    "/tenants/{tenant}/findings",
    response_model=Page[FindingOut],
    summary="Findings of a tenant, most severe first",
)
def findings(
    *,
    request: Request,
    tenant: str = Path(description=TENANT),
    state: Literal["open", "waived", "resolved", "all"] = Query("open"),
    severity: Annotated[list[Severity], Query(default_factory=list, description="Repeatable")],
    policy: Annotated[
        list[str],
        Query(default_factory=list, description="Exact ids, id prefixes or globs; repeatable"),
    ],
    provider: Annotated[
        list[str], Query(default_factory=list, description="aws, m365, gws, gcp; repeatable")
    ],
    connection: Annotated[
        list[str], Query(default_factory=list, description="Connection names; repeatable")
    ],
    q: str = Query("", max_length=200, description="Words in the policy id, resource or title"),
    limit: Limit = 100,
    offset: Offset = 0,
    ops: ApiOps,
) -> dict[str, object]:
    slug = allow(ops, "finding.read", tenant)
    query = FindingQuery(
        tenant=slug,
        status=state,
        severities=tuple(s.value for s in severity),
        policies=tuple(policy),
        providers=tuple(provider),
        connections=tuple(connection),
        text=q,
    )
    page = page_findings(ops, query, offset=offset, limit=limit)
    rows = [FindingOut.model_validate(r) for r in page.rows]
    return counted_page(request, rows, page.total, offset, limit)


@router.get(
    "/tenants/{tenant}/findings/{finding_id}",
    response_model=FindingDetailOut,
    summary="One finding with its evidence, recommendation and state changes",
)
def finding(
    *,
    tenant: str = Path(description=TENANT),
    finding_id: str = Path(max_length=128),
    ops: ApiOps,
) -> FindingDetailOut:
    slug = allow(ops, "finding.read", tenant)
    detail = show_finding(ops, finding_id, slug)
    out = FindingDetailOut.model_validate(detail.row)
    return out.model_copy(update={"events": [EventOut.model_validate(e) for e in detail.events]})
