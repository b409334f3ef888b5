"""The customer report as PDF: the print template laid out by WeasyPrint.

WeasyPrint is imported on first use so that importing ``posture.report`` (for HTML or
for the CLI) stays fast. Fonts come from fontconfig; the stylesheet asks for
"Noto Sans CJK JP" first so Japanese text never falls back to a face without its glyphs.
"""

from __future__ import annotations

from posture.errors import PostureError
from posture.report.i18n import check_language, load_messages
from posture.report.model import ReportData
from posture.report.templating import render, reports_dir, trusted_static
from posture.report.view import build_view
from posture.report.visuals import severity_figure, trend_figure

TEMPLATE = "print.html.j2"


def print_html(data: ReportData, lang: str) -> str:
    """The HTML handed to WeasyPrint; separate so tests and designers can inspect it."""
    check_language(lang)
    messages = load_messages(lang)
    view = build_view(data, lang)
    return render(
        TEMPLATE,
        view=view,
        t=messages,
        css=trusted_static("print.css"),
        severity_chart=severity_figure(view, messages),
        trend_chart=trend_figure(data, view, messages),
    )


def render_pdf(data: ReportData, lang: str) -> bytes:
    """Render the customer report of ``data`` in ``lang`` (``en`` or ``ja``) as PDF bytes."""
    from weasyprint import HTML

    document = HTML(string=print_html(data, lang), base_url=str(reports_dir()))
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):
        raise PostureError("WeasyPrint returned no PDF data")
    return pdf
