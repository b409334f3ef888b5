"""Reports: render a tenant's report for a period in the chosen formats and languages.

A thin layer over ``posture.report``: it resolves the tenant and the period (a month in
the tenant's time zone; one that has not started is refused), checks the choices, and owns
the read transaction; building and rendering stay in the report package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from posture.errors import UsageError
from posture.operations.access import require
from posture.operations.audit import record
from posture.operations.context import Operations
from posture.operations.filters import check_choices
from posture.operations.history import read_month_history
from posture.operations.tenants import resolve_tenant
from posture.report.period import Period, month

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
