"""Export files kept for download, one folder per tenant (reports have their own
folder: ``reports.list_report_files``).

A face that hands files out (the API) generates them here and lists or opens them by id.
The id is the file's own name, and it is only ever compared with the names in the
tenant's folder, never joined onto a path: an id such as ``../other/x.csv`` matches
nothing. The tenant is resolved first, so an id of another tenant's file is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from posture.errors import ConfigurationError
from posture.operations.context import Operations
from posture.operations.exports import export_findings
from posture.operations.tenants import show_tenant
from posture.report.files import safe_slug

KINDS = ("reports", "exports")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".ocsf": "application/x-ndjson",
}
EXPORT_SUFFIX = {"csv": ".csv", "json": ".json", "ocsf": ".jsonl"}


@dataclass(frozen=True)
class Deliverable:
    """A generated file of a tenant: its id (the file name), size and time written."""

    id: str
    tenant: str
    kind: str  # reports | exports
    format: str  # pdf, html, csv, json, jsonl
    size: int
    created_at: datetime
    path: Path

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.path.suffix, "application/octet-stream")


def tenant_folder(root: Path, tenant_slug: str, kind: str) -> Path:
    if kind not in KINDS:
        raise ConfigurationError(f"unknown kind of file '{kind}'")
    return Path(root) / safe_slug(tenant_slug) / kind


def _deliverable(path: Path, tenant: str, kind: str) -> Deliverable:
    stat = path.stat()
    return Deliverable(
        id=path.name,
        tenant=tenant,
        kind=kind,
        format=path.suffix.lstrip("."),
        size=stat.st_size,
        created_at=datetime.fromtimestamp(stat.st_mtime, UTC),
        path=path,
    )


def list_deliverables(ops: Operations, tenant: str, kind: str, root: Path) -> list[Deliverable]:
    """The tenant's files of a kind, newest first."""
    slug = show_tenant(ops, tenant).slug
    folder = tenant_folder(root, slug, kind)
    if not folder.is_dir():
        return []
    files = [
        _deliverable(p, slug, kind)
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and _ID.match(p.name)
    ]
    return sorted(files, key=lambda d: (d.created_at, d.id), reverse=True)


def open_deliverable(
    ops: Operations, tenant: str, kind: str, file_id: str, root: Path
) -> Deliverable:
    """The tenant's file with this id; any other id (of another tenant, with a path) is unknown."""
    singular = kind.rstrip("s")
    for item in list_deliverables(ops, tenant, kind, root) if _ID.match(file_id) else []:
        if item.id == file_id:
            return item
    raise ConfigurationError(f"no {singular} with id '{file_id}'")


def generate_export_file(
    ops: Operations,
    tenant: str,
    root: Path,
    *,
    fmt: str,
    month: str | None = None,
    lang: str | None = None,
    now: datetime | None = None,
) -> Deliverable:
    """Export the tenant's findings into its folder, under a name that says what and when."""
    slug = show_tenant(ops, tenant).slug
    moment = now or datetime.now(UTC)
    folder = tenant_folder(root, slug, "exports")
    folder.mkdir(parents=True, exist_ok=True)
    covered = f"-{month}" if month and re.fullmatch(r"\d{4}-\d{2}", month) else ""
    name = f"findings-{safe_slug(slug)}{covered}-{moment:%Y%m%dT%H%M%S%f}"
    target = folder / f"{name}{EXPORT_SUFFIX.get(fmt, '.txt')}"
    export_findings(ops, slug, fmt=fmt, month_text=month, lang=lang, out=target, now=now)
    return _deliverable(target, slug, "exports")
