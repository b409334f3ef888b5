"""Reports: render a tenant's report for a period in the chosen formats and languages.

A thin layer over ``posture.report``: it resolves the tenant and the period (a month in
the tenant's time zone; one that has not started is refused), checks the choices, and owns
the read transaction; building and rendering stay in the report package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from posture.errors import NotFound, UsageError
from posture.operations.access import require
from posture.operations.audit import record
from posture.operations.context import Operations
from posture.operations.filters import check_choices
from posture.operations.history import read_month_history
from posture.operations.tenants import resolve_tenant
from posture.report.period import Period, month
from posture.store import AuditEntry

FORMATS = ("html", "pdf")
LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class ReportOutcome:
    """The files written, the period they cover, and the connections it has no scan of."""

    period: Period
    paths: list[Path] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # connections without a successful scan


def parse_period(period: str | None, timezone: str, now: datetime) -> Period:
    """``YYYY-MM`` in the tenant's time zone; default: the current month there."""
    return month(period, timezone, now)


def generate_report(
    ops: Operations,
    tenant: str | None,
    *,
    formats: Sequence[str] = ("html",),
    languages: Sequence[str] = (),
    period: str | None = None,
    out: Path | str = Path("out"),
    now: datetime | None = None,
) -> ReportOutcome:
    """Write the report files; no ``languages`` means the tenant's own locale."""
    from posture.report import write_report
    from posture.report.build import build_report_data

    for fmt in formats:
        if fmt not in FORMATS:
            raise UsageError(f"--format takes html or pdf, got '{fmt}'")
    check_choices("--lang", languages, LANGUAGES)
    moment = now or datetime.now(UTC)
    catalog = ops.catalog()
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "report.generate", ten.id)
        span = parse_period(period, ten.timezone, moment)
        data = build_report_data(
            session,
            catalog,
            ten,
            span.start,
            span.end,
            generated_at=moment,
            history=read_month_history,
            with_config="html" in formats,  # the collected configuration is analyst detail
        )
        langs = list(languages) or [ten.locale]
    paths = [write_report(data, lang, fmt, out) for lang in langs for fmt in formats]
    gaps = [gap.name for gap in data.gaps]
    details = {"formats": list(formats), "languages": langs, "gaps": gaps}
    details["files"] = [str(Path(p).resolve()) for p in paths]
    record(ops, "report.generate", tenant=ten.slug, target=span.label, details=details)
    return ReportOutcome(span, paths, gaps)


# --- the report library of a tenant (what the console lists, previews and delivers) ---

REPORT_NAME = re.compile(r"^posture-[A-Za-z0-9._-]+-(\d{4}-\d{2})-(ja|en)\.(html|pdf)$")


@dataclass(frozen=True)
class ReportFile:
    """A report written into the tenant's report folder; ``delivered_*`` from the audit log."""

    name: str
    format: str
    language: str
    period: str  # YYYY-MM
    size: int
    written_at: datetime
    delivered_at: datetime | None = None
    delivered_by: str = ""
    delivered_to: str = ""


def _library(ops: Operations, tenant: str | None, permission: str) -> tuple[str, Path]:
    from posture.operations.schedules import report_folder

    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, permission, ten.id)
        return ten.slug, report_folder(ten)


def generate_tenant_report(
    ops: Operations,
    tenant: str | None,
    *,
    formats: Sequence[str] = ("html",),
    languages: Sequence[str] = (),
    period: str | None = None,
    now: datetime | None = None,
) -> ReportOutcome:
    """``generate_report`` into the tenant's report folder (where scheduled reports go)."""
    slug, folder = _library(ops, tenant, "report.generate")
    return generate_report(
        ops, slug, formats=formats, languages=languages, period=period, out=folder, now=now
    )


def list_report_files(ops: Operations, tenant: str | None) -> list[ReportFile]:
    """The reports in the tenant's folder, newest period first."""
    slug, folder = _library(ops, tenant, "report.read")
    delivered: dict[str, tuple[datetime, str, str]] = {}
    with ops.session() as session:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.tenant == slug, AuditEntry.action == "report.deliver")
            .order_by(col(AuditEntry.seq))
        )
        for entry in entries:
            to = str((entry.details or {}).get("to", ""))
            delivered[entry.target] = (entry.at, entry.actor, to)
    files = []
    for path in folder.glob("posture-*") if folder.is_dir() else ():
        match = REPORT_NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        stat = path.stat()
        when, by, to = delivered.get(path.name, (None, "", ""))
        files.append(
            ReportFile(
                name=path.name,
                format=match.group(3),
                language=match.group(2),
                period=match.group(1),
                size=stat.st_size,
                written_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                delivered_at=when,
                delivered_by=by,
                delivered_to=to,
            )
        )
    files.sort(key=lambda f: (f.period, f.name), reverse=True)
    return files


def report_path(ops: Operations, tenant: str | None, name: str) -> Path:
    """The file of one listed report; any other name (another tenant's, a path) is unknown."""
    slug, folder = _library(ops, tenant, "report.read")
    if REPORT_NAME.match(name) is None or not (folder / name).is_file():
        raise NotFound(f"no report named '{name}' for tenant '{slug}'")
    return folder / name


def mark_delivered(ops: Operations, tenant: str | None, name: str, *, to: str = "") -> ReportFile:
    """Record that a report went to the customer (by whom, to whom) in the audit log."""
    slug, _ = _library(ops, tenant, "report.deliver")
    report_path(ops, slug, name)
    record(ops, "report.deliver", tenant=slug, target=name, details={"to": to.strip()})
    return next(f for f in list_report_files(ops, slug) if f.name == name)
