"""Charts as inline SVG strings, drawn in Python so the PDF needs no JavaScript or images.

WeasyPrint renders inline SVG itself; a ``<text>`` without an explicit font-family falls
back to a serif CJK face there, so every text element names the report's font stack.
Labels may contain customer text and are escaped like any other output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from posture.report.model import TrendPoint

FONT_FAMILY = "'Noto Sans CJK JP', 'Noto Sans JP', 'Hiragino Sans', 'Yu Gothic', sans-serif"
SEVERITY_COLORS = {
    "critical": "#8b1a1a",
    "high": "#d9480f",
    "medium": "#e8a200",
    "low": "#1c7ed6",
    "info": "#868e96",
}
OTHER_COLOR = "#495057"
INK = "#212529"
GRID = "#dee2e6"
MAX_X_LABELS = 6
MAX_MARKERS = 31


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    color: str


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    values: tuple[int, ...]


def severity_color(severity: str) -> str:
    return SEVERITY_COLORS.get(severity, OTHER_COLOR)


def text(x: float, y: float, content: str, *, size: int = 11, anchor: str = "start") -> str:
    """One SVG text element with the report font; ``content`` is escaped."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT_FAMILY}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{INK}">{escape(content)}</text>'
    )


def svg(width: int, height: int, title: str, body: Sequence[str]) -> Markup:
    label = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 360) -> Markup:
    """Horizontal bars: long labels (Japanese or English) fit on the left of each bar."""
    row, label_w, value_w = 22, 120, 44
    track = width - label_w - value_w
    top = max((b.value for b in bars), default=0) or 1
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = i * row
        length = track * bar.value / top
        body.append(text(label_w - 8, y + 15, bar.label, anchor="end"))
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{track}" height="14" fill="#f1f3f5"/>')
        body.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="14" fill="{bar.color}"/>'
        )
        body.append(text(label_w + track + 6, y + 15, str(bar.value)))
    return svg(width, max(row * len(bars), row), title, body)


def severity_chart(counts: Sequence[tuple[str, str, int]], *, title: str) -> Markup:
    """Open findings per severity; ``counts`` holds (severity, label, count), in order."""
    bars = [Bar(label, count, severity_color(key)) for key, label, count in counts]
    return bar_chart(bars, title=title)


def nice_ceiling(value: int, steps: int = 4) -> int:
    """Smallest round axis maximum >= ``value`` whose ``steps`` grid lines are whole numbers."""
    if value <= steps:
        return steps
    raw = value / steps
    if raw <= 10:
        return math.ceil(raw) * steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * power >= raw)
    return int(step * steps)


@dataclass(frozen=True)
class Plot:
    """Geometry of a line chart's plotting area, in SVG user units."""

    left: float
    top: float
    width: float
    height: float
    y_max: int
    count: int

    def x(self, index: int) -> float:
        if self.count == 1:
            return self.left + self.width / 2
        return self.left + self.width * index / (self.count - 1)

    def y(self, value: int) -> float:
        return self.top + self.height * (1 - value / self.y_max)


def line_chart(
    series: Sequence[Series],
    x_labels: Sequence[str],
    *,
    title: str,
    empty_text: str,
    width: int = 640,
    height: int = 180,
) -> Markup:
    """Lines over time with a y grid and a legend on the right."""
    if not x_labels or not series:
        return svg(width, 60, title, [text(width / 2, 34, empty_text, anchor="middle")])
    top_value = max((max(s.values, default=0) for s in series), default=0)
    plot = Plot(44, 10, width - 44 - 130, height - 10 - 30, nice_ceiling(top_value), len(x_labels))
    body = [*_grid(plot), *_x_axis(plot, x_labels)]
    for s in series:
        body.extend(_line(plot, s))
    body.extend(_legend(plot, series))
    return svg(width, height, title, body)


def _grid(plot: Plot) -> list[str]:
    out = []
    for i in range(5):
        value = plot.y_max * i // 4
        y = plot.y(value)
        right = plot.left + plot.width
        out.append(
            f'<line x1="{plot.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        out.append(text(plot.left - 6, y + 4, str(value), size=10, anchor="end"))
    return out


def _x_axis(plot: Plot, labels: Sequence[str]) -> list[str]:
    """At most ``MAX_X_LABELS`` dates, always including the last scan."""
    step = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    shown = {*range(0, len(labels), step), len(labels) - 1}
    base = plot.top + plot.height + 18
    return [text(plot.x(i), base, labels[i], size=10, anchor="middle") for i in sorted(shown)]


def _line(plot: Plot, series: Series) -> list[str]:
    points = " ".join(f"{plot.x(i):.1f},{plot.y(v):.1f}" for i, v in enumerate(series.values))
    out = [f'<polyline points="{points}" fill="none" stroke="{series.color}" stroke-width="2"/>']
    if len(series.values) <= MAX_MARKERS:
        out.extend(
            f'<circle cx="{plot.x(i):.1f}" cy="{plot.y(v):.1f}" r="3" fill="{series.color}"/>'
            for i, v in enumerate(series.values)
        )
    return out


def _legend(plot: Plot, series: Sequence[Series]) -> list[str]:
    out = []
    x = plot.left + plot.width + 16
    for i, s in enumerate(series):
        y = plot.top + 8 + i * 20
        out.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 18}" y2="{y}" stroke="{s.color}" stroke-width="3"/>'
        )
        out.append(text(x + 24, y + 4, s.label))
    return out


def trend_chart(
    trend: Sequence[TrendPoint], labels: Mapping[str, str], *, title: str, empty_text: str
) -> Markup:
    """Open findings per severity after each scan; ``labels`` maps severity -> name, in order.

    Severities that stay at zero over the whole period are left out so the lines that
    matter are not hidden under flat ones; when all are zero every line is drawn.
    """
    points = sorted(trend, key=lambda p: p.at)
    all_series = [
        Series(label, severity_color(key), tuple(p.by_severity.get(key, 0) for p in points))
        for key, label in labels.items()
    ]
    series = [s for s in all_series if any(s.values)] or all_series
    return line_chart(series, _date_labels(points), title=title, empty_text=empty_text)


def _date_labels(points: Sequence[TrendPoint]) -> list[str]:
    """Month-day, with the time only where two scans share a day."""
    days = [p.at.strftime("%m-%d") for p in points]
    if len(set(days)) == len(days):
        return days
    return [p.at.strftime("%m-%d %H:%M") for p in points]
