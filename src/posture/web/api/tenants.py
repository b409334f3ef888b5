"""Tenants, their connections and their usage."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query

from posture.operations.connections import check_connections, list_connections
from posture.operations.menu import show_menu
from posture.operations.service import service_status
from posture.operations.tenants import list_tenants, pause_tenant, resume_tenant, show_tenant
from posture.operations.usage import tenant_usage
from posture.web.api.common import TENANT, allow
from posture.web.api.models import (
    ConnectionCheckOut,
    ConnectionOut,
    MenuOut,
    PauseRequest,
    ServiceStatusOut,
    TenantOut,
    UsageOut,
)
from posture.web.deps import ApiOps

router = APIRouter(tags=["tenants"])


@router.get("/tenants", response_model=list[TenantOut], summary="Tenants the caller may see")
def tenants(*, ops: ApiOps) -> list[TenantOut]:
    allow(ops, "tenant.read")
    return [TenantOut.model_validate(t) for t in list_tenants(ops)]


@router.get("/tenants/{tenant}", response_model=TenantOut, summary="One tenant")
def tenant(*, tenant: str = Path(description=TENANT), ops: ApiOps) -> TenantOut:
    slug = allow(ops, "tenant.read", tenant)
    return TenantOut.model_validate(show_tenant(ops, slug))


@router.get(
    "/tenants/{tenant}/connections",
    response_model=list[ConnectionOut],
    summary="Connections of a tenant with their last known health",
)
def connections(*, tenant: str = Path(description=TENANT), ops: ApiOps) -> list[ConnectionOut]:
    slug = allow(ops, "tenant.read", tenant)
    return [ConnectionOut.model_validate(c) for c in list_connections(ops, slug)]


@router.post(
    "/tenants/{tenant}/connections/{connection}/check",
    response_model=list[ConnectionCheckOut],
    summary="Sign in with a connection now and record its health",
)
def check_connection(
    *,
    tenant: str = Path(description=TENANT),
    connection: str = Path(description="A connection name"),
    ops: ApiOps,
) -> list[ConnectionCheckOut]:
    slug = allow(ops, "scan.run", tenant)
    return [ConnectionCheckOut.model_validate(c) for c in check_connections(ops, slug, connection)]


@router.get(
    "/tenants/{tenant}/usage",
    response_model=UsageOut,
    summary="What a tenant used in a month (connections, identities, resources, scans)",
)
def usage(
    *,
    tenant: str = Path(description=TENANT),
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM"),
    ops: ApiOps,
) -> UsageOut:
    slug = allow(ops, "tenant.read", tenant)
    return UsageOut.model_validate(tenant_usage(ops, slug, month=month)[0])


@router.post(
    "/tenants/{tenant}/pause",
    response_model=TenantOut,
    summary="Pause a tenant: no scans, scheduled jobs, fixes or notifications until resumed",
)
def pause(*, tenant: str = Path(description=TENANT), body: PauseRequest, ops: ApiOps) -> TenantOut:
    slug = allow(ops, "tenant.pause", tenant)
    assert slug is not None
    return TenantOut.model_validate(pause_tenant(ops, slug, reason=body.reason))


@router.post("/tenants/{tenant}/resume", response_model=TenantOut, summary="Resume a paused tenant")
def resume(*, tenant: str = Path(description=TENANT), ops: ApiOps) -> TenantOut:
    slug = allow(ops, "tenant.pause", tenant)
    assert slug is not None
    return TenantOut.model_validate(resume_tenant(ops, slug))


@router.get(
    "/tenants/{tenant}/menu",
    response_model=MenuOut,
    summary="The service menu a tenant bought (plan, options) and connections in use",
)
def menu(*, tenant: str = Path(description=TENANT), ops: ApiOps) -> MenuOut:
    slug = allow(ops, "tenant.read", tenant)
    return MenuOut.model_validate(show_menu(ops, slug))


@router.get(
    "/service/status",
    response_model=ServiceStatusOut,
    tags=["service"],
    summary="Workers and their last heartbeat, queue depth per queue (provider operators)",
)
def status(*, ops: ApiOps) -> ServiceStatusOut:
    return ServiceStatusOut.model_validate(service_status(ops))
