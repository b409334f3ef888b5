"""Exports: finding and result rows as JSON records, spreadsheet-safe CSV and OCSF.

Findings and results share their keys, so one script or spreadsheet reads both. CSV
starts with a UTF-8 byte order mark by default: without it Excel guesses a legacy code
page and shows Japanese titles as mojibake.

``export_findings`` is the operation behind ``posture export``: a tenant's open findings,
plus those resolved in a month when one is given, as one CSV file, one JSON document or
OCSF Detection Finding events (see ``posture.operations.ocsf``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from posture.errors import UsageError
from posture.operations.access import require
from posture.operations.auditing import audited
from posture.operations.context import Operations
from posture.operations.filters import check_choices
from posture.operations.findings import finding_row, severity_rank
from posture.operations.rows import FindingRow, PolicyFacts, ResultRow, Text
from posture.operations.tenants import resolve_tenant
from posture.report.period import Period, month
from posture.store import Connection, Finding, ResultRecord, ScanTarget

BOM = "\ufeff"
# a leading character a spreadsheet would read as the start of a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

FINDING_COLUMNS = (
    "severity",
    "status",
    "policy_id",
    "title_en",
    "title_ja",
    "resource_type",
    "resource_uid",
    "resource_name",
    "region",
    "connection",
    "controls",
    "first_seen",
    "last_seen",
    "resolved_at",
    "statement_en",
    "statement_ja",
    "reason",
    "evidence",
    "waiver_id",
)
RESULT_COLUMNS = (
    "status",
    "severity",
    "policy_id",
    "title_en",
    "title_ja",
    "statement_en",
    "statement_ja",
    "reason",
    "resource_type",
    "resource_uid",
    "resource_name",
    "region",
    "connection",
    "controls",
    "scan_id",
    "evidence",
)


def safe_cell(value: object) -> str:
    """Text for a spreadsheet cell that cannot start a formula (resource names are untrusted)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _common(row: FindingRow | ResultRow) -> dict[str, Any]:
    """The keys findings and results share, so one script reads both."""
    return {
        "policy_id": row.policy_id,
        "title": row.title.as_dict(),
        "severity": row.severity,
        "status": row.status,
        "reason": row.reason,
        "statement": row.statement.as_dict(),
        "resource_uid": row.resource_uid,
        "resource_name": row.resource_name,
        "resource_type": row.resource_type,
        "region": row.region,
        "connection": row.connection,
        "scan_id": row.scan_id,
        "evidence": row.evidence,
        "frameworks": row.frameworks,
    }


def finding_record(row: FindingRow) -> dict[str, Any]:
    """A finding as a JSON object: the result keys plus its history and remedy."""
    return {
        "id": row.id,
        **_common(row),
        "commands": list(row.commands),
        "recommendation": row.recommendation.as_dict(),
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "waiver_id": row.waiver_id,
        "judgement": row.judgement,
    }


def result_record(row: ResultRow) -> dict[str, Any]:
    return _common(row)


def to_json(records: Iterable[Mapping[str, Any]]) -> str:
    """Indented JSON that keeps Japanese readable (no ``\\u`` escapes)."""
    return json.dumps(list(records), ensure_ascii=False, indent=2, default=str)


def to_csv(
    records: Iterable[Mapping[str, Any]], columns: Sequence[str], *, bom: bool = True
) -> str:
    """CSV text of ``records`` under ``columns``; bilingual keys become ``*_en``/``*_ja``."""
    out = io.StringIO()
    if bom:
        out.write(BOM)
    # RFC 4180 line ends: the writer then quotes a lone CR inside a cell, which a
    # spreadsheet would otherwise read as the start of a new row
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        flat = _flatten(record)
        writer.writerow([safe_cell(flat.get(column)) for column in columns])
    return out.getvalue()


def _flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    flat = dict(record)
    for key in ("title", "statement", "recommendation"):
        text = record.get(key) or {}
        flat[f"{key}_en"] = text.get("en", "")
        flat[f"{key}_ja"] = text.get("ja", "")
    frameworks = record.get("frameworks") or {}
    flat["controls"] = "; ".join(f"{fw} {c}" for fw, ids in frameworks.items() for c in ids)
    flat["evidence"] = "; ".join(evidence_text(e) for e in record.get("evidence") or [])
    flat["commands"] = "\n".join(str(c) for c in record.get("commands") or [])
    return flat


def evidence_text(item: Mapping[str, Any]) -> str:
    """One evidence record on one line: ``path = actual (expected: [not] op value)``."""
    actual = json.dumps(item.get("actual"), ensure_ascii=False, default=str)
    expected = json.dumps(item.get("expected"), ensure_ascii=False, default=str)
    negation = "not " if item.get("negated") else ""
    return (
        f"{item.get('path', '')} = {actual} (expected: {negation}{item.get('op', '')} {expected})"
    )


# --- posture export ------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "json", "ocsf")
EXPORT_LANGUAGES = ("ja", "en")
# the finding columns plus what a spreadsheet needs to act without the report
EXPORT_COLUMNS = (
    "id",
    *FINDING_COLUMNS,
    "recommendation_en",
    "recommendation_ja",
    "commands",
    "judgement",
)
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class ExportOutcome:
    """What an export produced: its text, where it was written, and what it covers."""

    tenant: str
    format: str
    period: Period | None
    findings: int
    text: str
    path: Path | None = None


@audited(
    "export.findings",
    lambda e, a, k: (
        e.tenant,
        str(e.path or ""),
        {"format": e.format, "findings": e.findings, "period": str(e.period or "")},
    ),
)
def export_findings(
    ops: Operations,
    tenant: str | None,
    *,
    fmt: str,
    month_text: str | None = None,
    lang: str | None = None,
    out: Path | str | None = None,
    bom: bool = True,
    ocsf_array: bool = False,
    now: datetime | None = None,
) -> ExportOutcome:
    """A tenant's findings as CSV, a JSON document or OCSF Detection Findings.

    Without a month: the open findings. With ``YYYY-MM`` (a month in the tenant's time
    zone; one that has not started is refused): the findings open and already seen before
    the month ended, plus those resolved during it. ``lang`` (default: the tenant's locale)
    is the language of the OCSF titles and descriptions; CSV and JSON carry both. With
    ``out`` the text is also written to that file, as UTF-8.
    """
    check_choices("--format", [fmt], EXPORT_FORMATS)
    check_choices("--lang", [lang] if lang else [], EXPORT_LANGUAGES)
    if month_text is not None and not _MONTH.fullmatch(month_text.strip()):
        raise UsageError(f"--month takes YYYY-MM, got '{month_text}'")
    moment = now or datetime.now(UTC)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        require(ops, "export.run", ten.id)
        period = month(month_text.strip(), ten.timezone, moment) if month_text else None
        connections = {
            c.id: c for c in session.exec(select(Connection).where(Connection.tenant_id == ten.id))
        }
        found = list(session.exec(_export_query(ten.id, period)))
        unjudged = latest_unjudged(session, found)
        slug, name, locale = ten.slug, ten.name, ten.locale
    found.sort(key=lambda f: (-severity_rank(f.severity), f.policy_id, f.resource_uid))
    catalog = ops.catalog()
    names = {cid: c.name for cid, c in connections.items()}
    rows = [finding_row(f, PolicyFacts.lookup(catalog, f.policy_id), names) for f in found]
    rows = [
        replace(r, judgement=unjudged[r.id][0], reason=unjudged[r.id][1]) if r.id in unjudged else r
        for r in rows
    ]
    if fmt == "csv":
        text = to_csv((finding_record(r) for r in rows), EXPORT_COLUMNS, bom=bom)
    elif fmt == "json":
        text = export_document(slug, name, period, moment, rows)
    else:
        # the OCSF models load only for an OCSF export
        from posture.operations.ocsf import (
            ConnectionFacts,
            Framing,
            detection_finding,
            to_json_array,
            to_json_lines,
        )

        framing = Framing(
            tenant=slug,
            lang=lang or (locale if locale in EXPORT_LANGUAGES else "en"),
            framework_names={fw: Text.of(f.name) for fw, f in catalog.frameworks.items()},
            references={pid: list(p.references) for pid, p in catalog.policies.items()},
            connections={
                c.name: ConnectionFacts(c.name, c.provider, c.account) for c in connections.values()
            },
        )
        events = [detection_finding(r, framing) for r in rows]
        text = to_json_array(events) if ocsf_array else to_json_lines(events)
    path = _write(Path(out), text) if out is not None else None
    return ExportOutcome(slug, fmt, period, len(rows), text, path)


def export_document(
    tenant_slug: str,
    tenant_name: str,
    period: Period | None,
    generated_at: datetime,
    rows: Sequence[FindingRow],
) -> str:
    """One JSON document whose keys are always present, ``null`` where there is nothing."""
    document = {
        "tenant": {"slug": tenant_slug, "name": tenant_name},
        "generated_at": generated_at.astimezone(UTC).isoformat(),
        "period": None
        if period is None
        else {
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "timezone": str(period.tz),
        },
        "findings": [finding_record(r) for r in rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"


def latest_unjudged(session: Session, found: Sequence[Finding]) -> dict[str, tuple[str, str]]:
    """Open findings the newest scan of their connection could not judge -> (status, reason).

    An ``unknown`` or ``error`` result leaves a finding open as it was; an export says so
    instead of presenting it as failing afresh.
    """
    pending = [f for f in found if f.state != "resolved"]
    if not pending:
        return {}
    newest: dict[str, str] = {}
    for target in session.exec(
        select(ScanTarget)
        .where(col(ScanTarget.connection_id).in_({f.connection_id for f in pending}))
        .where(col(ScanTarget.status).in_(("succeeded", "partial")))
        .order_by(col(ScanTarget.finished_at).desc())
    ):
        newest.setdefault(target.connection_id, target.scan_id)
    stale = [f for f in pending if newest.get(f.connection_id, f.last_scan_id) != f.last_scan_id]
    if not stale:
        return {}
    verdicts: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    for record in session.exec(
        select(ResultRecord).where(
            col(ResultRecord.scan_id).in_({newest[f.connection_id] for f in stale}),
            col(ResultRecord.status).in_(("unknown", "error")),
            col(ResultRecord.policy_id).in_({f.policy_id for f in stale}),
        )
    ):
        key = (record.connection_id, record.policy_id, record.resource_uid, record.region)
        verdicts[key] = (record.status, record.reason)
    out: dict[str, tuple[str, str]] = {}
    for f in stale:
        verdict = verdicts.get((f.connection_id, f.policy_id, f.resource_uid, f.region))
        # a scope that failed gives one result without a resource for its region
        verdict = verdict or verdicts.get((f.connection_id, f.policy_id, "", f.region))
        if verdict is not None:
            out[f.id] = verdict
    return out


def _export_query(tenant_id: str, period: Period | None) -> SelectOfScalar[Finding]:
    stmt = select(Finding).where(Finding.tenant_id == tenant_id)
    if period is None:
        return stmt.where(Finding.state != "resolved")
    resolved_in_month = and_(
        col(Finding.state) == "resolved",
        col(Finding.resolved_at) >= period.start,
        col(Finding.resolved_at) < period.end,
    )
    return stmt.where(
        col(Finding.first_seen) < period.end,
        or_(col(Finding.state) != "resolved", resolved_in_month),
    )


def _write(target: Path, text: str) -> Path:
    """Write the export atomically: a collector never reads half a file."""
    if target.is_dir():
        raise UsageError(f"--out names a folder: {target}", hint="give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".posture-", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return target
