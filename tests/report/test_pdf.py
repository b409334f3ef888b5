"""The customer PDF read back with pdftotext: title, findings, recommendations, pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from posture.report import ReportData, render_pdf, write_report
from posture.report.model import Branding
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


SECTIONS = {
    "en": (
        "Contents",
        "Executive summary",
        "Top 10 recommended fixes",
        "Compliance",
        "Connection health",
        "Waivers (accepted risks)",
        "Appendix: open findings",
    ),
    "ja": (
        "目次",
        "エグゼクティブサマリー",
        "推奨する対策トップ 10",
        "コンプライアンス",
        "接続の状態",
        "例外承認 (リスク受容)",
        "付録: 未解決の検出事項",
    ),
}


def appendix_text(text: str, lang: str) -> str:
    """The pages from the appendix heading on (the contents page names it too)."""
    heading = SECTIONS[lang][-1]
    pages = text.split("\f")
    start = next(i for i, page in enumerate(pages) if i > 1 and heading in page)
    return "\f".join(pages[start:])


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_sections_in_order_with_page_numbers(
    report_data: ReportData, tmp_path: Path, lang: str
) -> None:
    text = pdf_text(render_pdf(report_data, lang), tmp_path)
    flat = " ".join(text.split())
    body = flat[flat.index(SECTIONS[lang][1], flat.index(SECTIONS[lang][-1])) :]
    order = [body.index(heading) for heading in SECTIONS[lang][1:]]
    assert order == sorted(order)
    pages = page_count(text)
    assert 5 <= pages <= 15
    assert f"2/{pages}" in "".join(text.split())  # page numbers from the @page margin boxes
    contents = text.split("\f")[1]
    assert SECTIONS[lang][0] in contents
    assert re.search(r"\d+\s*$", contents.strip().splitlines()[-3])  # a page number per entry


def test_japanese_pdf(report_data: ReportData, tmp_path: Path) -> None:
    pdf = render_pdf(report_data, "ja")
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    flat = " ".join(text.split())
    assert "セキュリティ態勢レポート" in text
    assert "ルートユーザーで MFA が有効になっていません" in flat
    assert "ルートユーザーにハードウェア MFA デバイスを設定してください。" in flat
    assert JAPANESE_BUCKET in text
    assert HOSTILE_SCRIPT in flat  # printed literally, not interpreted
    assert "aws.s3.bucket" in text  # the failed collection, with the connections
    assert "この期間の例外承認の記録はありません。" in flat
    assert "平均解決日数" in flat


def test_top_fixes_ranked_by_risk_with_steps(report_data: ReportData, tmp_path: Path) -> None:
    text = " ".join(pdf_text(render_pdf(report_data, "en"), tmp_path).split())
    fixes = text[
        text.index("Ranked by risk") : text.index("Compliance", text.index("Ranked by risk"))
    ]
    assert "1. Critical" in fixes
    assert "Enable a hardware MFA device for the root user." in fixes
    assert "2 affected resources · Risk 10" in fixes  # two high buckets weigh as one critical
    assert fixes.count("Risk ") <= 10


def test_appendix_one_line_per_resource_without_evidence(
    report_data: ReportData, tmp_path: Path
) -> None:
    text = pdf_text(render_pdf(report_data, "en"), tmp_path)
    appendix = appendix_text(text, "en")
    for finding in report_data.open_findings:
        assert " ".join(finding.resource_name.split())[:12] in " ".join(appendix.split())
    assert "expected" not in appendix  # evidence belongs to the analyst report
    assert "Critical Root user does not have MFA enabled (1)" in " ".join(appendix.split())
    assert "S3 bucket does not block public access (2)" in " ".join(appendix.split())


def test_print_html_charts_name_their_font(report_data: ReportData) -> None:
    page = Page(print_html(report_data, "ja"))
    svg_texts = [attrs for tag, attrs in page.elements if tag == "text"]
    assert svg_texts
    assert all("Noto Sans CJK JP" in attrs.get("font-family", "") for attrs in svg_texts)


def test_print_html_repeats_table_headers_and_shows_logos(report_data: ReportData) -> None:
    logo = "data:image/png;base64,iVBORw0KGgo="
    report_data.branding = Branding(provider_name="Example MSSP", provider_logo=logo)
    html = print_html(report_data, "en")
    page = Page(html)
    assert page.classed("table", "grid")
    assert html.count("<thead>") >= len(page.classed("table", "grid"))
    assert "Example MSSP" in page.text
    assert [a["src"] for t, a in page.elements if t == "img"] == [logo]


def test_empty_sections_say_so(report_data: ReportData, tmp_path: Path) -> None:
    empty = ReportData(
        tenant_name="Empty",
        tenant_slug="empty",
        period_start=report_data.period_start,
        period_end=report_data.period_end,
        generated_at=report_data.generated_at,
        scan_id=None,
    )
    text = " ".join(pdf_text(render_pdf(empty, "en"), tmp_path).split())
    assert "There is no open finding to fix." in text
    assert "There are no open findings." in text
    assert "No scan finished in the last 12 months" in text


def test_many_findings(report_data: ReportData, tmp_path: Path) -> None:
    """A large tenant: every open finding is in the appendix, the body stays short."""
    template = report_data.findings
    report_data.findings = [
        replace(template[i % len(template)], finding_id=f"bulk-{i}", resource_name=f"bulk-{i:03d}")
        for i in range(240)
    ]
    path = write_report(report_data, "ja", "pdf", tmp_path / "out")
    text = pdf_text(path.read_bytes(), tmp_path)
    appendix = appendix_text(text, "ja")
    assert "bulk-000" in appendix
    assert "bulk-239" in appendix
    body_pages = page_count(text) - page_count(appendix)
    assert body_pages < 12
    # one line per resource: the resource, then its statement
    flat = " ".join(appendix.split())
    assert re.search(r"bulk-000 — \S", flat)
    # every appendix page after the first names, above its first line, the policy it continues
    headings = set(re.findall(r"^(?:重大|高|中|低|情報) .+ \(\d+\)$", appendix, re.MULTILINE))
    assert headings
    later = [p for p in appendix.split("\f")[1:] if p.strip()]
    assert len(later) >= 2
    for page in later:
        assert page.strip().splitlines()[0].strip() in headings
