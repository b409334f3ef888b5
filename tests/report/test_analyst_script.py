"""The analyst script run under Node with a minimal DOM: it renders only the visible page,
filters, searches, sorts, pages, builds details on expand, and never uses innerHTML."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import posture.report.html as html_module
from posture.report import ReportData, render_html
from tests.report.report_support import HOSTILE_SCRIPT, Page

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
STUB = Path(__file__).with_name("analyst_dom_stub.js")


def run_script(html: str, tmp_path: Path, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    page = Page(html)
    (config,) = [content for attrs, content in page.scripts if attrs.get("type")]
    (script,) = [content for attrs, content in page.scripts if not attrs.get("type")]
    (tmp_path / "config.json").write_text(config, encoding="utf-8")
    (tmp_path / "script.js").write_text(script, encoding="utf-8")
    result = subprocess.run(
        [
            "node",
            str(STUB),
            str(tmp_path / "config.json"),
            str(tmp_path / "script.js"),
            json.dumps(steps),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    states: list[dict[str, Any]] = json.loads(result.stdout)
    return states


@pytest.fixture
def many(report_data: ReportData) -> ReportData:
    template = report_data.findings
    report_data.findings = [
        replace(template[i % len(template)], finding_id=f"bulk-{i}", resource_name=f"bulk-{i:03d}")
        for i in range(120)
    ]
    report_data.findings[7] = replace(report_data.findings[7], resource_name=HOSTILE_SCRIPT)
    return report_data


def test_pages_search_sort_and_expand(many: ReportData, tmp_path: Path) -> None:
    states = run_script(
        render_html(many, "en"),
        tmp_path,
        [
            {"next": True},
            {"search": "bulk-11"},
            {"sort": "resource"},
            {"expand": 0},
            {"search": "<script>"},
        ],
    )
    first, second, searched, resorted, expanded, hostile = states
    assert len(first["rows"]) == 50  # only the visible page is rendered
    assert first["counter"] == "Showing 121 of 121 findings"
    assert first["page"] == "Page 1 of 3" and first["prevDisabled"]
    assert second["page"] == "Page 2 of 3" and not second["prevDisabled"]
    assert searched["counter"] == "Showing 11 of 121 findings"
    names = [row[3] for row in resorted["rows"]]
    assert names == sorted(names)
    assert expanded["details"] and "Finding ID" in expanded["details"][0]
    assert "Why it matters" in expanded["details"][0]
    assert HOSTILE_SCRIPT in [row[3] for row in hostile["rows"]]  # inserted as text


def test_compressed_rows_render_the_same(
    many: ReportData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = run_script(render_html(many, "en"), tmp_path, [])
    monkeypatch.setattr(html_module, "COMPRESS_ABOVE", 100)
    packed = run_script(render_html(many, "en"), tmp_path, [])
    assert packed == plain
