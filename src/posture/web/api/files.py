"""Reports and exports: generated into the tenant's folder, listed, downloaded by id."""

from __future__ import annotations

from pathlib import Path as Path_

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse

from posture.operations import Operations
from posture.operations.deliverables import (
    MEDIA_TYPES,
    generate_export_file,
    list_deliverables,
    open_deliverable,
)
from posture.operations.reports import (
    ReportFile,
    generate_tenant_report,
    list_report_files,
    mark_delivered,
    report_path,
)
from posture.web.api.common import TENANT, allow, file_out, files_root
from posture.web.api.models import (
    DeliveredRequest,
    ExportRequest,
    FileOut,
    ReportFileOut,
    ReportGenerated,
    ReportRequest,
)
from posture.web.deps import ApiOps

router = APIRouter(tags=["reports and exports"])
READ_RIGHT = {"reports": "report.read", "exports": "export.run"}


def _report_out(request: Request, slug: str, item: ReportFile) -> ReportFileOut:
    url = request.url_for("download_report", tenant=slug, file_id=item.name).path
    return ReportFileOut.model_validate(item).model_copy(update={"url": url})


@router.post(
    "/tenants/{tenant}/reports",
    response_model=ReportGenerated,
    status_code=201,
    summary="Render the tenant's monthly report into its report folder (PDF, HTML)",
)
def generate_report(
    *, request: Request, ops: ApiOps, body: ReportRequest, tenant: str = Path(description=TENANT)
) -> ReportGenerated:
    slug = allow(ops, "report.generate", tenant)
    assert slug is not None
    outcome = generate_tenant_report(
        ops,
        slug,
        formats=list(dict.fromkeys(body.formats)),
        languages=list(dict.fromkeys(body.languages)),
        period=body.period,
    )
    written = {Path_(p).name for p in outcome.paths}
    files = [
        _report_out(request, slug, f) for f in list_report_files(ops, slug) if f.name in written
    ]
    return ReportGenerated(period=outcome.period.label, files=files, gaps=list(outcome.gaps))


@router.post(
    "/tenants/{tenant}/reports/{file_id}/delivered",
    response_model=ReportFileOut,
    summary="Record that a report went to the customer",
)
def delivered(
    *,
    request: Request,
    ops: ApiOps,
    body: DeliveredRequest,
    tenant: str = Path(description=TENANT),
    file_id: str = Path(max_length=200),
) -> ReportFileOut:
    slug = allow(ops, "report.deliver", tenant)
    assert slug is not None
    return _report_out(request, slug, mark_delivered(ops, slug, file_id, to=body.to))


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
    response_model=list[ReportFileOut],
    summary="The tenant's reports (also the scheduled ones), newest period first",
)
def reports(
    *, request: Request, ops: ApiOps, tenant: str = Path(description=TENANT)
) -> list[ReportFileOut]:
    slug = allow(ops, "report.read", tenant)
    assert slug is not None
    return [_report_out(request, slug, f) for f in list_report_files(ops, slug)]


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
    *, ops: ApiOps, tenant: str = Path(description=TENANT), file_id: str = Path(max_length=200)
) -> FileResponse:
    slug = allow(ops, "report.read", tenant)
    path = report_path(ops, slug, file_id)
    # a report's HTML runs its own pinned script: hand it over as a file, never render it here
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
        filename=path.name,
        content_disposition_type="attachment",
    )


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
