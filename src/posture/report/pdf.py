"""The customer report as PDF: the print template laid out by WeasyPrint.

WeasyPrint runs in a child interpreter (``posture.report.pdf_worker``): the HTML is built
here, the layout happens there, so the memory of a large layout is never added to this
process (which holds the catalog and the report data) and is returned to the system when
the child exits; importing ``posture.report`` never loads WeasyPrint. Fonts come from fontconfig; the stylesheet asks for
"Noto Sans CJK JP" first so Japanese text never falls back to a face without its glyphs.
"""

from __future__ import annotations

import subprocess
import sys

from posture.errors import PostureError
from posture.report.i18n import check_language, load_messages
from posture.report.model import ReportData
from posture.report.templating import render, reports_dir, trusted_static
from posture.report.view import build_view
from posture.report.visuals import severity_figure, trend_figure

TEMPLATE = "print.html.j2"
LAYOUT_TIMEOUT_SECONDS = 900  # far above the 5,000-line appendix; only a hung child hits it


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
    return pdf_from_html(print_html(data, lang))


def pdf_from_html(html: str) -> bytes:
    """Lay out ``html`` (relative references resolve in ``reports/``) in a child interpreter."""
    command = [sys.executable, "-m", "posture.report.pdf_worker", str(reports_dir())]
    try:
        done = subprocess.run(
            command,
            input=html.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=LAYOUT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise PostureError(
            f"the PDF layout did not finish within {LAYOUT_TIMEOUT_SECONDS} s",
            hint="render the analyst HTML instead, or report the tenant's finding count",
        ) from None
    except OSError as exc:
        raise PostureError(
            f"cannot start the PDF layout process: {exc.strerror}",
            hint=f"check that {sys.executable} can run",
        ) from None
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF-"):
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise PostureError(
            f"the PDF layout failed: {reason}",
            hint="check that WeasyPrint and its fonts are installed (python -m weasyprint --info)",
        )
    return done.stdout
