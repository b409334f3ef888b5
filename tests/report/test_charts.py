"""Charts are well-formed SVG, name a font on every text and escape their labels."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from posture.report.charts import FONT_FAMILY, nice_ceiling, severity_chart, trend_chart
from posture.report.model import TrendPoint

SVG = "{http://www.w3.org/2000/svg}"
LABELS = {"critical": "緊急", "high": "高", "medium": "中", "low": "低", "info": "情報"}


def texts(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG}text"))


def test_severity_chart_labels_every_bar_with_a_font() -> None:
    svg = str(severity_chart([("critical", "緊急", 3), ("high", "高", 0)], title="重大度"))
    elements = texts(svg)
    assert [e.text for e in elements] == ["緊急", "3", "高", "0"]
    assert all(e.get("font-family") == FONT_FAMILY for e in elements)
    assert "Noto Sans CJK JP" in FONT_FAMILY


def test_chart_labels_are_escaped() -> None:
    svg = str(severity_chart([("x", "<script>alert(1)</script>", 1)], title='"><b>'))
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert root.get("aria-label") == '"><b>'
    assert texts(svg)[0].text == "<script>alert(1)</script>"


def test_trend_chart_draws_one_line_per_non_zero_severity() -> None:
    trend = [
        TrendPoint(datetime(2025, 6, day, tzinfo=UTC), {"critical": day, "high": 2})
        for day in (1, 15, 29)
    ]
    svg = str(trend_chart(trend, LABELS, title="trend", empty_text="none"))
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    labels = [e.text for e in texts(svg)]
    assert {"06-01", "06-15", "06-29", "緊急", "高"} <= set(labels)
    assert "情報" not in labels
    assert all(e.get("font-family") == FONT_FAMILY for e in texts(svg))


def test_trend_chart_without_scans_says_so() -> None:
    svg = str(trend_chart([], LABELS, title="trend", empty_text="スキャンなし"))
    assert [e.text for e in texts(svg)] == ["スキャンなし"]


def test_same_day_scans_show_the_time() -> None:
    trend = [TrendPoint(datetime(2025, 6, 1, hour, tzinfo=UTC), {"low": 1}) for hour in (3, 15)]
    labels = [e.text for e in texts(str(trend_chart(trend, LABELS, title="t", empty_text="")))]
    assert "06-01 03:00" in labels
    assert "06-01 15:00" in labels


def test_nice_ceiling() -> None:
    values = (0, 3, 4, 5, 9, 13, 41, 170, 999)
    assert [nice_ceiling(v) for v in values] == [4, 4, 4, 8, 12, 16, 60, 200, 1000]
