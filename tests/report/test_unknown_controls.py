"""Unknown controls in both reports: neither passing nor failing, counted apart, in ja and en."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from posture.catalog import Catalog
from posture.report import ReportData, render_html, render_pdf
from posture.report.build import framework_scores
from posture.report.view import build_view
from tests.report.report_support import Page, control


def with_unknown(data: ReportData) -> ReportData:
    """The CIS framework of the sample data, with control 4.4 unknown."""
    cis, *rest = data.frameworks
    controls = (*cis.controls, control("4.2", "CloudTrail log file validation", "pass", 0))
    unknown = replace(controls[-1], control_id="4.4", status="unknown")
    cis = replace(
        cis,
        controls=(*cis.controls, unknown),
        controls_evaluated=cis.controls_evaluated + 1,
        controls_unknown=1,
    )
    return replace(data, frameworks=[cis, *rest])


def test_scores_keep_unknown_apart(catalog: Catalog) -> None:
    ran = {"aws.cloudtrail.s3_bucket_access_logging", "aws.cloudtrail.log_file_validation_enabled"}
    scores = framework_scores(
        catalog, ran, [], set(), unknown={"aws.cloudtrail.s3_bucket_access_logging"}
    )
    (cis,) = [s for s in scores if s.framework_id == "cis-aws-7.0"]  # catalogues follow it
    status = {c.control_id: c.status for c in cis.controls}
    assert status == {"4.2": "pass", "4.4": "unknown"}
    assert (cis.controls_evaluated, cis.controls_passed, cis.controls_unknown) == (2, 1, 1)
    assert cis.score == 100.0  # the unknown control is neither passing nor failing
    # an error outranks unknown: the data could have been read
    (cis,) = [
        s
        for s in framework_scores(
            catalog,
            ran,
            [],
            {"aws.cloudtrail.s3_bucket_access_logging"},
            unknown={"aws.cloudtrail.s3_bucket_access_logging"},
        )
        if s.framework_id == "cis-aws-7.0"
    ]
    assert {c.control_id: c.status for c in cis.controls}["4.4"] == "error"


def test_analyst_view_and_html_name_unknown_controls(report_data: ReportData) -> None:
    data = with_unknown(report_data)
    en, ja = build_view(data, "en").frameworks[0], build_view(data, "ja").frameworks[0]
    assert en.score_text == "29%"  # 2 of the 7 judged controls; the unknown one is left out
    assert "1 controls cannot be judged from the scanned accounts (unknown)" in en.summary
    assert "1 件の管理策はスキャン対象のアカウントからは判定できないため" in ja.summary
    unknown_en = next(c for c in en.attention if c.control_id == "4.4")
    unknown_ja = next(c for c in ja.attention if c.control_id == "4.4")
    assert (unknown_en.status_label, unknown_ja.status_label) == ("Unknown", "確認不可")
    page_en, page_ja = Page(render_html(data, "en")), Page(render_html(data, "ja"))
    assert "Unknown" in page_en.text and "確認不可" in page_ja.text
    assert "unknown controls are left out of the score" in page_en.text


def test_monthly_compliance_counts_unknown_apart(report_data: ReportData) -> None:
    data = with_unknown(report_data)
    for lang in ("en", "ja"):
        cis = build_view(data, lang).monthly.compliance[0]
        assert (cis.passed, cis.failing, cis.unknown, cis.evaluated) == (2, 4, 1, 8)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_pdf_compliance_table_has_an_unknown_column(
    report_data: ReportData, tmp_path: Path
) -> None:
    from tests.report.test_pdf import pdf_text

    data = with_unknown(report_data)
    en = " ".join(pdf_text(render_pdf(data, "en"), tmp_path).split())
    ja = "".join(pdf_text(render_pdf(data, "ja"), tmp_path).split())
    assert "Passing Failing Unknown Score" in en
    assert "合格不合格確認不可" in ja
    assert "unknown controls are left out of the score" in en
