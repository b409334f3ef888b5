"""Reports: render ``ReportData`` as analyst HTML or customer PDF, in Japanese or English.

``posture.report.build`` (elsewhere) turns the store into ``ReportData``; this package
only renders it, with templates, styles and message catalogs from ``reports/``.
"""

from __future__ import annotations

from posture.report.files import report_file_name, safe_slug, write_report
from posture.report.html import render_html
from posture.report.i18n import SUPPORTED_LANGUAGES
from posture.report.model import (
    Branding,
    CollectionIssue,
    ConnectionHealth,
    ControlScore,
    FrameworkScore,
    History,
    MonthTrend,
    PeriodCounts,
    ReportData,
    ReportEvidence,
    ReportFinding,
    Text,
    TrendPoint,
    WaiverLine,
)
from posture.report.pdf import render_pdf

__all__ = [
    "SUPPORTED_LANGUAGES",
    "Branding",
    "CollectionIssue",
    "ConnectionHealth",
    "ControlScore",
    "FrameworkScore",
    "History",
    "MonthTrend",
    "PeriodCounts",
    "ReportData",
    "ReportEvidence",
    "ReportFinding",
    "Text",
    "TrendPoint",
    "WaiverLine",
    "render_html",
    "render_pdf",
    "report_file_name",
    "safe_slug",
    "write_report",
]
