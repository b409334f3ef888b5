"""The two charts of a report, labelled in the report's language."""

from __future__ import annotations

from markupsafe import Markup

from posture.report.charts import severity_chart, trend_chart
from posture.report.i18n import Messages
from posture.report.model import ReportData
from posture.report.view import ReportView


def severity_figure(view: ReportView, messages: Messages) -> Markup:
    counts = [(s.key, s.label, s.count) for s in view.severities]
    return severity_chart(counts, title=messages("summary.by_severity"))


def trend_figure(data: ReportData, view: ReportView, messages: Messages) -> Markup:
    labels = {s.key: s.label for s in view.severities}
    return trend_chart(
        data.trend,
        labels,
        title=messages("summary.trend"),
        empty_text=messages("summary.trend_empty"),
    )
