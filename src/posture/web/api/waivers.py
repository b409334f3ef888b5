"""Waivers: accepted risks of a tenant, added and revoked by people with the right."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query

from posture.operations.audit import actor_of
from posture.operations.waivers import add_waiver, list_waivers, revoke_waiver
from posture.web.api.common import TENANT, allow
from posture.web.api.models import RevokeRequest, WaiverOut, WaiverRequest
from posture.web.deps import ApiOps

router = APIRouter(tags=["waivers"])


@router.get(
    "/tenants/{tenant}/waivers", response_model=list[WaiverOut], summary="Soonest expiry first"
)
def waivers(
    *,
    tenant: str = Path(description=TENANT),
    status: Literal["active", "expired", "revoked", "all"] = Query("active"),
    ops: ApiOps,
) -> list[WaiverOut]:
    slug = allow(ops, "finding.read", tenant)
    return [WaiverOut.model_validate(w) for w in list_waivers(ops, slug, status=status)]


@router.post(
    "/tenants/{tenant}/waivers",
    response_model=WaiverOut,
    status_code=201,
    summary="Accept a risk until a date; the caller approves it",
)
def add(
    *,
    body: WaiverRequest,
    tenant: str = Path(description=TENANT),
    ops: ApiOps,
) -> WaiverOut:
    slug = allow(ops, "waiver.write", tenant)
    approver = actor_of(ops)
    info = add_waiver(
        ops,
        slug,
        reason=body.reason,
        requested_by=body.requested_by.strip() or approver,
        approved_by=approver,
        expires=body.expires,
        policy=body.policy,
        resource=body.resource,
        tag=body.tag,
        connection=body.connection,
        whole_tenant=body.whole_tenant,
    )
    return WaiverOut.model_validate(info)


@router.post(
    "/tenants/{tenant}/waivers/{waiver_id}/revoke",
    response_model=WaiverOut,
    summary="End a waiver now; its findings return to open",
)
def revoke(
    *,
    body: RevokeRequest,
    tenant: str = Path(description=TENANT),
    waiver_id: str = Path(max_length=64),
    ops: ApiOps,
) -> WaiverOut:
    slug = allow(ops, "waiver.write", tenant)
    info = revoke_waiver(ops, waiver_id, tenant=slug, revoked_by=actor_of(ops), reason=body.reason)
    return WaiverOut.model_validate(info)
