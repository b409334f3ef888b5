"""What the API's endpoint modules share: rights checks, paging, file links."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import Query, Request

from posture.operations import Operations
from posture.operations.access import require
from posture.operations.deliverables import Deliverable
from posture.operations.tenants import show_tenant
from posture.web.api.models import FileOut
from posture.web.state import request_state

T = TypeVar("T")

TENANT = "A tenant slug"
MAX_LIMIT = 500


def allow(ops: Operations, permission: str, tenant: str | None = None) -> str | None:
    """Check the caller's right for ``permission`` (on ``tenant``, a slug); the slug back.

    The tenant is looked up first, within the caller's scope: one outside it is refused
    exactly as an unknown one, before any right is checked, so a refusal tells nothing.
    """
    slug = show_tenant(ops, tenant).slug if tenant is not None else None
    require(ops, permission)
    return slug


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def page_of(request: Request, items: Sequence[T], offset: int, limit: int) -> dict[str, object]:
    """One page of ``items`` and the link to the next one (same filters)."""
    chunk = list(items[offset : offset + limit])
    following = offset + limit
    next_url = None
    if following < len(items):
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
        params.append(("offset", str(following)))
        next_url = f"{request.url.path}?{urlencode(params)}"
    return {"items": chunk, "total": len(items), "offset": offset, "limit": limit, "next": next_url}


def counted_page(
    request: Request, items: Sequence[T], total: int, offset: int, limit: int
) -> dict[str, object]:
    """A page already cut to ``items`` out of ``total``, with the link to the next one."""
    following = offset + limit
    next_url = None
    if following < total:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
        params.append(("offset", str(following)))
        next_url = f"{request.url.path}?{urlencode(params)}"
    return {
        "items": list(items),
        "total": total,
        "offset": offset,
        "limit": limit,
        "next": next_url,
    }


def file_out(request: Request, item: Deliverable) -> FileOut:
    name = "download_report" if item.kind == "reports" else "download_export"
    url = request.url_for(name, tenant=item.tenant, file_id=item.id).path
    return FileOut(
        id=item.id,
        tenant=item.tenant,
        kind=item.kind,
        format=item.format,
        size=item.size,
        created_at=item.created_at,
        url=url,
    )


def files_root(request: Request) -> Path:
    return request_state(request).settings.files_dir
