"""Reports and exports: generated into the tenant's folder, listed, downloaded by id."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse

from posture.operations import Operations
from posture.operations.deliverables import (
    generate_export_file,
    generate_report_files,
    list_deliverables,
    open_deliverable,
)
from posture.web.api.common import TENANT, allow, file_out, files_root
from posture.web.api.models import ExportRequest, FileOut, ReportGenerated, ReportRequest
from posture.web.deps import ApiOps

router = APIRouter(tags=["reports and exports"])
READ_RIGHT = {"reports": "report.read", "exports": "export.run"}


@router.post(
    "/tenants/{tenant}/reports",
    response_model=ReportGenerated,
    status_code=201,
    summary="Render the tenant's monthly report (PDF for the customer, HTML for analysts)",
)
def generate_report(
    *,
    request: Request,
    body: ReportRequest,
    tenant: str = Path(description=TENANT),
    ops: ApiOps,
) -> ReportGenerated:
    slug = allow(ops, "report.generate", tenant)
    assert slug is not None
    files, gaps, period = generate_report_files(
        ops,
        slug,
        files_root(request),
        formats=list(dict.fromkeys(body.formats)),
        languages=list(dict.fromkeys(body.languages)),
        period=body.period,
    )
    return ReportGenerated(period=period, files=[file_out(request, f) for f in files], gaps=gaps)


@router.post(
    "/tenants/{tenant}/exports",
    response_model=FileOut,
    status_code=201,
    summary="Export the tenant's findings as CSV, JSON or OCSF (one event per line)",
)
def export(
    *,
    request: Request,
    body: ExportRequest,
    tenant: str = Path(description=TENANT),
    ops: ApiOps,
) -> FileOut:
    slug = allow(ops, "export.run", tenant)
    assert slug is not None
    item = generate_export_file(
        ops, slug, files_root(request), fmt=body.format, month=body.month, lang=body.lang
    )
    return file_out(request, item)


def _list(request: Request, ops: Operations, tenant: str, kind: str) -> list[FileOut]:
    slug = allow(ops, READ_RIGHT[kind], tenant)
    assert slug is not None
    return [file_out(request, f) for f in list_deliverables(ops, slug, kind, files_root(request))]


def _download(
    ops: Operations, request: Request, tenant: str, kind: str, file_id: str
) -> FileResponse:
    slug = allow(ops, READ_RIGHT[kind], tenant)
    assert slug is not None
    item = open_deliverable(ops, slug, kind, file_id, files_root(request))
    # a report's HTML runs its own pinned script: hand it over as a file, never render it here
    return FileResponse(
        item.path,
        media_type=item.media_type,
        filename=item.id,
        content_disposition_type="attachment",
    )


FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The file"}
}


@router.get(
    "/tenants/{tenant}/reports",
    response_model=list[FileOut],
    summary="The tenant's generated reports, newest first",
)
def reports(
    *, request: Request, tenant: str = Path(description=TENANT), ops: ApiOps
) -> list[FileOut]:
    return _list(request, ops, tenant, "reports")


@router.get(
    "/tenants/{tenant}/exports",
    response_model=list[FileOut],
    summary="The tenant's generated exports, newest first",
)
def exports(
    *, request: Request, tenant: str = Path(description=TENANT), ops: ApiOps
) -> list[FileOut]:
    return _list(request, ops, tenant, "exports")


@router.get(
    "/tenants/{tenant}/reports/{file_id}",
    response_class=FileResponse,
    name="download_report",
    summary="Download one report (PDF or HTML)",
    responses=FILE_RESPONSES,
)
def download_report(
    *,
    request: Request,
    tenant: str = Path(description=TENANT),
    file_id: str = Path(max_length=200),
    ops: ApiOps,
) -> FileResponse:
    return _download(ops, request, tenant, "reports", file_id)


@router.get(
    "/tenants/{tenant}/exports/{file_id}",
    response_class=FileResponse,
    name="download_export",
    summary="Download one export",
    responses=FILE_RESPONSES,
)
def download_export(
    *,
    request: Request,
    tenant: str = Path(description=TENANT),
    file_id: str = Path(max_length=200),
    ops: ApiOps,
) -> FileResponse:
    return _download(ops, request, tenant, "exports", file_id)
