"""Scans: the history, one scan's detail, and starting one (it runs in the background)."""

from __future__ import annotations

import logging
from concurrent.futures import Future

from fastapi import APIRouter, Path, Request

from posture.operations.scans import list_scans, scan_tenant, show_scan
from posture.web.api.common import TENANT, Limit, allow
from posture.web.api.models import ScanDetailOut, ScanOut, ScanRequest, ScanStarted
from posture.web.deps import ApiOps
from posture.web.errors import ApiError, text
from posture.web.state import request_state

router = APIRouter(tags=["scans"])
log = logging.getLogger("posture.web")
START_TIMEOUT = 120.0  # seconds to wait for a scan to be recorded as running


@router.get("/tenants/{tenant}/scans", response_model=list[ScanOut], summary="Newest scans first")
def scans(
    *,
    tenant: str = Path(description=TENANT),
    limit: Limit = 20,
    ops: ApiOps,
) -> list[ScanOut]:
    slug = allow(ops, "finding.read", tenant)
    return [ScanOut.model_validate(s) for s in list_scans(ops, slug, limit)]


@router.get(
    "/tenants/{tenant}/scans/{scan_id}",
    response_model=ScanDetailOut,
    summary="A scan with what each connection collected and what failed",
)
def scan(
    *,
    tenant: str = Path(description=TENANT),
    scan_id: str = Path(description="A scan id or a unique start of one", max_length=64),
    ops: ApiOps,
) -> ScanDetailOut:
    slug = allow(ops, "finding.read", tenant)
    return ScanDetailOut.model_validate(show_scan(ops, scan_id, slug))


@router.post(
    "/tenants/{tenant}/scans",
    response_model=ScanStarted,
    status_code=202,
    summary="Start a scan of every (or the named) connection; answers once it is running",
)
def start_scan(
    *,
    request: Request,
    body: ScanRequest,
    tenant: str = Path(description=TENANT),
    ops: ApiOps,
) -> ScanStarted:
    slug = allow(ops, "scan.run", tenant)
    assert slug is not None
    started: Future[str] = Future()

    def run() -> None:
        try:
            scan_tenant(
                ops,
                slug,
                connections=body.connections,
                policies=body.policies,
                on_start=started.set_result,
            )
        except Exception as exc:
            if not started.done():  # refused before it started: the caller hears why
                started.set_exception(exc)
            else:  # the scan records its own failure; the log keeps the detail
                log.exception("scan of tenant %s failed", slug)

    job = request_state(request).scan_executor().submit(run)
    try:
        scan_id = started.result(timeout=START_TIMEOUT)
    except TimeoutError:
        if job.cancel():  # still waiting for a free scan thread: it never starts
            raise ApiError("scans_busy", text(request, "error.scans_busy"), status=503) from None
        scan_id = started.result()  # it began meanwhile: its id is moments away
    url = request.url_for("scan", tenant=slug, scan_id=scan_id).path
    return ScanStarted(scan_id=scan_id, tenant=slug, url=url)
