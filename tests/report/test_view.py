"""The view decides counts, order and labels once, for both deliverables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from posture.report.model import ReportData
from posture.report.view import build_view


def test_counts_and_order(report_data: ReportData) -> None:
    view = build_view(report_data, "en")
    assert [(s.key, s.count) for s in view.severities] == [
        ("critical", 3),
        ("high", 3),
        ("medium", 3),
        ("low", 2),
        ("info", 2),
    ]
    assert (view.open_count, view.new_count, view.resolved_count) == (13, 7, 1)
    assert [g.severity for g in view.open_groups] == ["critical", "high", "medium", "low", "info"]
    assert view.findings[-1].state == "resolved"


def test_services_busiest_first(report_data: ReportData) -> None:
    rows = build_view(report_data, "en").services
    assert rows[0].service == "iam"
    assert rows[0].total == 5
    assert sum(r.total for r in rows) == 13


def test_resolved_finding_listed_once_even_if_builder_repeats_it(report_data: ReportData) -> None:
    resolved = report_data.resolved_in_period[0]
    report_data.findings.append(resolved)
    view = build_view(report_data, "en")
    assert [f.finding_id for f in view.findings].count(resolved.finding_id) == 1


def test_unknown_severity_is_shown_not_dropped(report_data: ReportData) -> None:
    odd = replace(report_data.findings[0], finding_id="odd", severity="urgent")
    report_data.findings.append(odd)
    view = build_view(report_data, "ja")
    assert view.severities[-1].key == "urgent"
    assert view.severities[-1].label == "urgent"
    assert view.open_groups[-1].findings[0].finding_id == "odd"


def test_half_open_month_reads_as_the_month(report_data: ReportData) -> None:
    assert build_view(report_data, "en").period == "June 1, 2025 – June 30, 2025"
    assert build_view(report_data, "ja").period == "2025年6月1日〜2025年6月30日"
    report_data.period_end = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert build_view(report_data, "en").period == "June 1, 2025 – June 30, 2025"


def test_framework_attention_lists_failing_and_unevaluated_controls(
    report_data: ReportData,
) -> None:
    cis = build_view(report_data, "en").frameworks[0]
    assert cis.score_text == "29%"
    assert [c.control_id for c in cis.attention] == ["2.4", "2.8", "2.13", "3.1.4", "4.1"]
    assert cis.attention[3].status_label == "Not evaluated"


def test_open_findings_grouped_by_policy_within_severity(report_data: ReportData) -> None:
    high = build_view(report_data, "en").open_groups[1]
    assert high.heading == "High (3)"
    assert [(p.policy_id, len(p.findings)) for p in high.policies] == [
        ("aws.s3.bucket.block_public_access", 2),
        ("aws.cloudtrail.multi_region", 1),
    ]
