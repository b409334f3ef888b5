"""Report file names are safe whatever the tenant slug holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from posture.errors import UsageError
from posture.report import ReportData, report_file_name, safe_slug, write_report


@pytest.mark.parametrize(
    ("slug", "safe"),
    [
        ("sample-shoji", "sample-shoji"),
        ("../../etc/passwd", "etc-passwd"),
        ("a b/c\\d", "a-b-c-d"),
        ("acme<script>alert(1)</script>", "acme-script-alert-1-script"),
        ("株式会社", "tenant"),
        ("...", "tenant"),
        ("", "tenant"),
        ("a\x00b\nc", "a-b-c"),
        ("x" * 100, "x" * 64),
    ],
)
def test_safe_slug(slug: str, safe: str) -> None:
    assert safe_slug(slug) == safe


def test_file_name_has_slug_month_and_language(report_data: ReportData) -> None:
    report_data.tenant_slug = "../Acme Corp/"
    assert report_file_name(report_data, "ja", "pdf") == "posture-Acme-Corp-2025-06-ja.pdf"


def test_write_report_stays_inside_the_folder(report_data: ReportData, tmp_path: Path) -> None:
    report_data.tenant_slug = "../../escape"
    out = tmp_path / "reports" / "june"
    path = write_report(report_data, "en", "html", out)
    assert path == out / "posture-escape-2025-06-en.html"
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in out.iterdir()] == [path.name]  # no temporary file left behind


def test_bad_format_or_language_is_a_usage_error(report_data: ReportData, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="format"):
        write_report(report_data, "en", "docx", tmp_path)
    with pytest.raises(UsageError, match="language"):
        write_report(report_data, "../x", "html", tmp_path)


def test_importing_the_package_does_not_load_weasyprint() -> None:
    """The CLI imports ``posture.report`` for HTML too; WeasyPrint costs ~0.6 s to import."""
    code = "import sys, posture.report; print('weasyprint' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
