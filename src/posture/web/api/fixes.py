"""Setting repair: plan (request), approve, apply and roll back fix runs of a tenant.

Mounted only where the installation has the fix operations (``posture.operations.fixes``).
Each step needs its own right (``fix.request``, ``fix.approve``, ``fix.apply``); the fix
operations then apply their guard rails (the tenant's option, the kill switch, the rate
limit, approval by someone other than the planner).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from posture.errors import NotFound
from posture.operations import Operations
from posture.web.api.common import TENANT, Limit, allow
from posture.web.api.models import (
    FixApplyOut,
    FixApplyRequest,
    FixPlanOut,
    FixPlanRequest,
    FixRunOut,
)
from posture.web.deps import ApiOps

MODULE = "posture.operations.fixes"
router = APIRouter(tags=["fixes"])
RunId = Path(max_length=64, description="A fix run id or a unique start of one")


def available() -> bool:
    try:
        importlib.import_module(MODULE)
    except ModuleNotFoundError:
        return False
    return True


def _fixes() -> ModuleType:
    return importlib.import_module(MODULE)


def _run_of(ops: Operations, slug: str, run_id: str) -> Any:
    """The run, when it belongs to the tenant; any other id is unknown."""
    run = _fixes().show_fix_run(ops, run_id)
    if run.tenant != slug:
        raise NotFound(f"no fix run with id '{run_id}'")
    return run


@router.get("/tenants/{tenant}/fixes", response_model=list[FixRunOut], summary="Fix runs")
def runs(
    *,
    ops: ApiOps,
    tenant: str = Path(description=TENANT),
    state: Annotated[list[str], Query(default_factory=list, description="Repeatable")],
    limit: Limit = 50,
) -> list[FixRunOut]:
    slug = allow(ops, "finding.read", tenant)
    found = _fixes().list_fix_runs(ops, slug, states=state, limit=limit)
    return [FixRunOut.model_validate(r) for r in found]


@router.get("/tenants/{tenant}/fixes/{run_id}", response_model=FixRunOut, summary="A fix run")
def run(*, ops: ApiOps, tenant: str = Path(description=TENANT), run_id: str = RunId) -> FixRunOut:
    slug = allow(ops, "finding.read", tenant)
    assert slug is not None
    return FixRunOut.model_validate(_run_of(ops, slug, run_id))


@router.post(
    "/tenants/{tenant}/fixes",
    response_model=FixPlanOut,
    status_code=201,
    summary="Request fixes: plan them for open findings (nothing changes yet)",
)
def plan(
    *, ops: ApiOps, body: FixPlanRequest, tenant: str = Path(description=TENANT)
) -> FixPlanOut:
    slug = allow(ops, "fix.request", tenant)
    outcome = _fixes().plan_fixes(
        ops,
        slug,
        policies=body.policies,
        findings=body.findings,
        resources=body.resources,
        connection=body.connection,
        max_risk=body.max_risk,
    )
    return FixPlanOut.model_validate(outcome)


@router.post(
    "/tenants/{tenant}/fixes/{run_id}/approve",
    response_model=FixRunOut,
    summary="Approve a planned fix run (not by its planner, unless the tenant allows)",
)
def approve(
    *, ops: ApiOps, tenant: str = Path(description=TENANT), run_id: str = RunId
) -> FixRunOut:
    slug = allow(ops, "fix.approve", tenant)
    assert slug is not None
    found = _run_of(ops, slug, run_id)
    return FixRunOut.model_validate(_fixes().approve_fix(ops, found.id))


@router.post(
    "/tenants/{tenant}/fixes/{run_id}/apply",
    response_model=FixApplyOut,
    summary="Apply an approved fix run (execute: false re-checks only)",
)
def apply(
    *,
    ops: ApiOps,
    body: FixApplyRequest,
    tenant: str = Path(description=TENANT),
    run_id: str = RunId,
) -> FixApplyOut:
    slug = allow(ops, "fix.apply", tenant)
    assert slug is not None
    found = _run_of(ops, slug, run_id)
    return FixApplyOut.model_validate(_fixes().apply_fix(ops, found.id, execute=body.execute))


@router.post(
    "/tenants/{tenant}/fixes/{run_id}/rollback",
    response_model=FixApplyOut,
    summary="Restore the before-state of an applied fix run (execute: false re-checks only)",
)
def rollback(
    *,
    ops: ApiOps,
    body: FixApplyRequest,
    tenant: str = Path(description=TENANT),
    run_id: str = RunId,
) -> FixApplyOut:
    slug = allow(ops, "fix.apply", tenant)
    assert slug is not None
    found = _run_of(ops, slug, run_id)
    return FixApplyOut.model_validate(_fixes().rollback_fix(ops, found.id, execute=body.execute))
