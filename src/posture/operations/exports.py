"""Exports: finding and result rows as JSON records and as spreadsheet-safe CSV.

Findings and results share their keys, so one script or spreadsheet reads both. CSV
starts with a UTF-8 byte order mark by default: without it Excel guesses a legacy code
page and shows Japanese titles as mojibake.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from posture.operations.rows import FindingRow, ResultRow

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
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        flat = _flatten(record)
        writer.writerow([safe_cell(flat.get(column)) for column in columns])
    return out.getvalue()


def _flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    flat = dict(record)
    for key in ("title", "statement"):
        text = record.get(key) or {}
        flat[f"{key}_en"] = text.get("en", "")
        flat[f"{key}_ja"] = text.get("ja", "")
    frameworks = record.get("frameworks") or {}
    flat["controls"] = "; ".join(f"{fw} {c}" for fw, ids in frameworks.items() for c in ids)
    flat["evidence"] = "; ".join(evidence_text(e) for e in record.get("evidence") or [])
    return flat


def evidence_text(item: Mapping[str, Any]) -> str:
    """One evidence record on one line: ``path = actual (expected: [not] op value)``."""
    actual = json.dumps(item.get("actual"), ensure_ascii=False, default=str)
    expected = json.dumps(item.get("expected"), ensure_ascii=False, default=str)
    negation = "not " if item.get("negated") else ""
    return (
        f"{item.get('path', '')} = {actual} (expected: {negation}{item.get('op', '')} {expected})"
    )
