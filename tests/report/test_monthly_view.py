"""What the history API fills in reaches both reports: period counts, waivers, the change
of compliance since last month, the top fixes ranked by risk."""

from __future__ import annotations

from datetime import UTC, datetime

from posture.report import History, MonthTrend, PeriodCounts, ReportData, Text, WaiverLine
from posture.report.html import render_html
from posture.report.i18n import load_messages
from posture.report.monthly_view import monthly_view, risk_weight
from posture.report.pdf import print_html
from posture.report.view import build_view
from tests.report.report_support import HOSTILE_SCRIPT, Page


def with_history(data: ReportData) -> ReportData:
    data.history = History(
        months=[
            MonthTrend("2025-05", {"critical": 4}, new=4, resolved=0, score=70.0),
            MonthTrend("2025-06", {"critical": 3, "high": 3}, new=7, resolved=1, score=72.5),
        ],
        counts=PeriodCounts(new=7, resolved=1, reopened=2, mttr_days=12.25),
        waivers=[
            WaiverLine(
                policy_id="aws.iam.root_mfa_enabled",
                title=Text(
                    "Root user does not have MFA enabled",
                    "ルートユーザーで MFA が有効になっていません",
                ),
                scope=HOSTILE_SCRIPT,
                reason="Break-glass account kept in a safe",
                approved_by="CISO",
                expires_at=datetime(2025, 7, 15, tzinfo=UTC),
                findings=1,
                expiring=True,
            )
        ],
        previous_passed={fw.framework_id: fw.controls_passed - 1 for fw in data.frameworks},
    )
    return data


def test_history_reaches_the_pdf_in_both_languages(report_data: ReportData) -> None:
    data = with_history(report_data)
    en = Page(print_html(data, "en")).text
    assert "+2.5 points since the previous month." in en
    assert "2 Reopened" in en and "12.2 days" in en
    assert "Break-glass account kept in a safe" in en and "Expires within 30 days" in en
    assert HOSTILE_SCRIPT in en  # a scope shown as text
    assert "+1 passing controls since last month" in en
    ja = Page(print_html(data, "ja")).text
    assert "前月から +2.5 ポイント変化しました。" in ja
    assert "30 日以内に期限切れ" in ja
    assert "前月から合格コントロール +1" in ja


def test_history_reaches_the_html(report_data: ReportData) -> None:
    html = render_html(with_history(report_data), "en")
    text = Page(html).text
    assert "Break-glass account kept in a safe" in text
    assert "2025-05" in text and "72%" in text and "Reopened 2" in text
    assert "<script>alert(1)" not in html


def test_unknown_history_is_said_in_one_sentence(report_data: ReportData) -> None:
    text = Page(print_html(report_data, "en")).text
    assert "No waiver records are available for this period." in text
    assert "No scan finished in the last 12 months" in text


def test_top_fixes_rank_by_severity_weight_times_resources(report_data: ReportData) -> None:
    messages = load_messages("en")
    view = build_view(report_data, "en")
    fixes = monthly_view(report_data, view.findings, messages).fixes
    assert len(fixes) <= 10
    risks = [f.risk for f in fixes]
    assert risks == sorted(risks, reverse=True)
    for fix in fixes:
        assert fix.risk == risk_weight(fix.severity) * fix.affected
    assert fixes[0].severity == "critical"
