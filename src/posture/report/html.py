"""The analyst report: one self-contained HTML file with search, filters and sorting.

Everything is inline (CSS, a small script, charts as SVG) so the file can be mailed or
archived and still work offline. A Content-Security-Policy pins the one script by its
hash: even if a hostile resource name slipped past escaping, it could not run.

The finding list is data, not markup: a compact JSON document in a
``<script type="application/json">`` element, with each policy's texts once and the
findings referring to them by index. The script renders only the visible page of the
table and builds a finding's details when it is expanded, so a file with 100,000
findings opens as fast as one with ten. Above ``COMPRESS_ABOVE`` bytes the finding rows
are gzip-compressed (base64 in the same JSON document) and the browser inflates them
with its built-in ``DecompressionStream``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from posture.report.evidence import plain_text
from posture.report.findings_view import FindingView
from posture.report.i18n import Messages, check_language, load_messages
from posture.report.model import ReportData
from posture.report.templating import json_for_script, render, trusted_static
from posture.report.view import ReportView, build_view
from posture.report.visuals import trend_figure

TEMPLATE = "analyst.html.j2"
PAGE_SIZE = 50
COMPRESS_ABOVE = 2_000_000  # bytes of finding rows as JSON

# positions in a finding row of the embedded data (also read by analyst.js)
ROW_FIELDS = (
    "policy",  # index into policies
    "severity",  # index into severities
    "state",  # index into states
    "new",  # 1 when first seen in the period
    "name",
    "uid",
    "type",  # index into strings
    "service",  # index into strings
    "region",  # index into strings
    "connection",  # index into strings
    "firstSeen",
    "lastSeen",
    "resolvedAt",
    "statement",
    "evidence",  # list of sentences
    "commands",  # list of commands
    "config",  # list of [line, highlighted] or 0
    "id",
)


def render_html(data: ReportData, lang: str) -> str:
    """Render the analyst view of ``data`` in ``lang`` (``en`` or ``ja``)."""
    check_language(lang)
    messages = load_messages(lang)
    view = build_view(data, lang, with_config=True)
    script = trusted_static("analyst.js")
    return render(
        TEMPLATE,
        view=view,
        t=messages,
        css=trusted_static("analyst.css"),
        js=script,
        config=json_for_script(script_config(view, messages)),
        csp=content_security_policy(str(script)),
        trend_chart=trend_figure(data, view, messages),
    )


class _Strings:
    """Short repeated texts (services, regions, types, connections) stored once."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
        return found


def finding_data(view: ReportView) -> dict[str, Any]:
    """Policies, severities, states and strings once; one compact row per finding."""
    policies: list[list[Any]] = []
    policy_index: dict[str, int] = {}
    severities = [[s.key, s.label] for s in view.severities]
    severity_index = {s.key: i for i, s in enumerate(view.severities)}
    states = [[c.value, c.label] for c in view.state_choices]
    state_index = {c.value: i for i, c in enumerate(view.state_choices)}
    strings = _Strings()
    rows = []
    for f in view.findings:
        if f.policy_id not in policy_index:
            policy_index[f.policy_id] = len(policies)
            policies.append(
                [
                    f.policy_id,
                    f.title,
                    f.rationale,
                    f.recommendation,
                    [f"{c.framework} {c.control_id} {c.title}".strip() for c in f.controls],
                ]
            )
        if f.severity not in severity_index:
            severity_index[f.severity] = len(severities)
            severities.append([f.severity, f.severity_label])
        rows.append(
            [
                policy_index[f.policy_id],
                severity_index[f.severity],
                state_index.get(f.state, 0),
                1 if f.is_new else 0,
                f.resource_name,
                f.resource_uid,
                strings(f.resource_type),
                strings(f.service),
                strings(f.region),
                strings(f.connection),
                f.first_seen,
                f.last_seen,
                f.resolved_at if f.state == "resolved" else "",
                f.statement,
                [plain_text(line) for line in f.evidence],
                list(f.commands),
                [[line.text, 1 if line.highlight else 0] for line in f.config] or 0,
                f.finding_id,
            ]
        )
    return {
        "fields": list(ROW_FIELDS),
        "policies": policies,
        "severities": severities,
        "states": states,
        "strings": strings.values,
        "rows": rows,
    }


def pack_rows(data: dict[str, Any]) -> dict[str, Any]:
    """Large row lists travel gzip-compressed inside the same JSON document."""
    encoded = json.dumps(data["rows"], ensure_ascii=False, separators=(",", ":")).encode()
    if len(encoded) <= COMPRESS_ABOVE:
        return data
    packed = dict(data)
    del packed["rows"]
    packed["rowsGzip"] = base64.b64encode(gzip.compress(encoded, compresslevel=6, mtime=0)).decode(
        "ascii"
    )
    return packed


def unpack_rows(data: dict[str, Any]) -> list[list[Any]]:
    """The rows of a document made by ``pack_rows`` (for tests and tools)."""
    if "rows" in data:
        rows: list[list[Any]] = data["rows"]
        return rows
    loaded: list[list[Any]] = json.loads(gzip.decompress(base64.b64decode(data["rowsGzip"])))
    return loaded


def script_config(view: ReportView, messages: Messages) -> dict[str, Any]:
    """What the script needs: labels, and the findings as data."""
    return {
        "lang": view.lang,
        "pageSize": PAGE_SIZE,
        "labels": {
            "showing": messages.template("findings.showing"),
            "page": messages.template("findings.page"),
            "expand": messages("findings.expand"),
            "collapse": messages("findings.collapse"),
            "new": messages("findings.new_badge"),
            "policy": messages("findings.policy"),
            "resourceId": messages("findings.resource_id"),
            "resourceType": messages("findings.resource_type"),
            "connection": messages("columns.connection"),
            "firstSeen": messages("columns.first_seen"),
            "lastSeen": messages("columns.last_seen"),
            "resolvedAt": messages("columns.resolved_at"),
            "findingId": messages("findings.finding_id"),
            "statement": messages("coverage.statement"),
            "evidence": messages("findings.evidence"),
            "noEvidence": messages("findings.no_evidence"),
            "configuration": messages("coverage.configuration"),
            "rationale": messages("findings.rationale"),
            "recommendation": messages("findings.recommendation"),
            "controls": messages("findings.controls"),
            "noControls": messages("findings.no_controls"),
            "loading": messages("findings.loading"),
            "unsupported": messages("findings.unsupported"),
        },
        "data": pack_rows(finding_data(view)),
    }


def search_text(finding: FindingView) -> str:
    """Lower-cased text the free-text search looks in, including the hidden details."""
    parts: Sequence[str] = [
        finding.title,
        finding.resource_name,
        finding.resource_uid,
        finding.resource_type,
        finding.policy_id,
        finding.service,
        finding.region,
        finding.connection,
        finding.severity_label,
        finding.state_label,
        finding.statement,
        *(plain_text(line) for line in finding.evidence),
        *(f"{c.framework} {c.control_id}" for c in finding.controls),
    ]
    return " ".join(parts).lower()


def content_security_policy(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return "; ".join(
        [
            "default-src 'none'",
            "style-src 'unsafe-inline'",
            f"script-src 'sha256-{digest}'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
