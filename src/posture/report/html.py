"""The analyst report: one self-contained HTML file with search, filters and sorting.

Everything is inline (CSS, a small script, charts as SVG) so the file can be mailed or
archived and still work offline. A Content-Security-Policy pins the one script by its
hash: even if a hostile resource name slipped past escaping, it could not run.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from posture.report.evidence import plain_text
from posture.report.findings_view import FindingView
from posture.report.i18n import Messages, check_language, load_messages
from posture.report.model import ReportData
from posture.report.templating import json_for_script, render, trusted_static
from posture.report.view import ReportView, build_view
from posture.report.visuals import trend_figure

TEMPLATE = "analyst.html.j2"


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


def script_config(view: ReportView, messages: Messages) -> dict[str, Any]:
    """What the script needs besides the DOM: labels and a search index per finding."""
    return {
        "lang": view.lang,
        "labels": {
            "showing": messages.template("findings.showing"),
            "expand": messages("findings.expand"),
            "collapse": messages("findings.collapse"),
        },
        "search": [{"id": f.dom_id, "text": search_text(f)} for f in view.findings],
    }


def search_text(finding: FindingView) -> str:
    """Lower-cased text the free-text search looks in, including the hidden details."""
    parts = [
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
