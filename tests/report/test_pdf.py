"""The customer PDF read back with pdftotext: title, findings, recommendations, pages."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from posture.report import ReportData, render_pdf, write_report
from posture.report.pdf import print_html
from tests.report.report_support import HOSTILE_SCRIPT, JAPANESE_BUCKET, Page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """Text of the PDF in reading order; pages are separated by form feeds."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout


def page_count(text: str) -> int:
    return text.count("\f")


def test_japanese_pdf(report_data: ReportData, tmp_path: Path) -> None:
    pdf = render_pdf(report_data, "ja")
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    flat = " ".join(text.split())
    assert "セキュリティ態勢レポート" in text
    assert "エグゼクティブサマリー" in text
    assert "ルートユーザーで MFA が有効になっていません" in flat
    assert "ルートユーザーにハードウェア MFA デバイスを設定してください。" in flat
    assert JAPANESE_BUCKET in text
    assert HOSTILE_SCRIPT in flat  # printed literally, not interpreted
    assert "aws.s3.bucket" in text  # the failed collection, in the appendix
    pages = page_count(text)
    assert 5 <= pages <= 12
    assert f"2/{pages}" in "".join(text.split())  # page numbers from the @page margin boxes


def test_english_pdf_groups_findings_critical_first(
    report_data: ReportData, tmp_path: Path
) -> None:
    text = " ".join(pdf_text(render_pdf(report_data, "en"), tmp_path).split())
    assert "Security posture report" in text
    assert "Enable a hardware MFA device for the root user." in text
    order = [text.index(heading) for heading in ("Critical (3)", "High (3)", "Low (2)")]
    assert order == sorted(order)
    assert "Affected resources (2)" in text  # two buckets share one policy block
    assert "CIS AWS Foundations Benchmark v7.0.0 29%" in text


def test_print_html_charts_name_their_font(report_data: ReportData) -> None:
    page = Page(print_html(report_data, "ja"))
    svg_texts = [attrs for tag, attrs in page.elements if tag == "text"]
    assert svg_texts
    assert all("Noto Sans CJK JP" in attrs.get("font-family", "") for attrs in svg_texts)


def test_many_findings(report_data: ReportData, tmp_path: Path) -> None:
    """A large tenant: every finding still makes it into the PDF."""
    template = report_data.findings
    report_data.findings = [
        replace(template[i % len(template)], finding_id=f"bulk-{i}", resource_name=f"bulk-{i:03d}")
        for i in range(240)
    ]
    path = write_report(report_data, "ja", "pdf", tmp_path / "out")
    text = pdf_text(path.read_bytes(), tmp_path)
    assert "bulk-000" in text
    assert "bulk-239" in text
    assert page_count(text) > 10
