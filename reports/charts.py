"""Tiny server-rendered SVG charts: a bar chart and a line chart with axes and labels.

Plain SVG with no script and no external resource, so the same markup works in the browser,
in WeasyPrint PDFs (inline SVG) and in the PDF attached to a scheduled e-mail.

A value of ``None`` means "undefined" (a rate or a median on a day with nothing to measure): the
line chart leaves a gap there and the bar chart draws no bar, never a 0. A count of 0 is a real
zero and is drawn as one.
"""

import math

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 58
FONT = "Noto Sans CJK SC, Noto Sans, DejaVu Sans, sans-serif"
BAR = "#1f5fbf"
GRID = "#dfe3ea"
TEXT = "#6b7385"


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum``."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks, value = [], 0.0
    while value < maximum + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _frame(series, title: str):
    values = [None if v is None else float(v) for _, v in series]
    defined = [v for v in values if v is not None]
    ticks = nice_ticks(max(defined) if defined else 0)
    top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" aria-label="{escape(title)}" class="chart" '
        f'font-family="{FONT}" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    for t in ticks:
        y = TOP + plot_h - plot_h * t / top
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">{_fmt(t)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#9aa3b2"/>')
    return parts, values, top, plot_w, plot_h


CHAR_W = 6.5  # an 11 px label character, about


def _fit(label: str, limit: int) -> str:
    """The label as it fits under its bar: cut with an ellipsis when longer than ``limit``."""
    limit = max(limit, 4)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _x_labels(parts, series, xs, plot_h):
    n = len(series)
    every = max(1, math.ceil(n / 16))
    rotate = n > 8
    slot = (WIDTH - LEFT - RIGHT) / n * every
    for i, ((label, _), x) in enumerate(zip(series, xs, strict=True)):
        if i % every:
            continue
        text = escape(_fit(str(label), 18 if rotate else int(slot / CHAR_W)))
        y = TOP + plot_h + 14
        if rotate:
            parts.append(
                f'<text x="{x:.1f}" y="{y}" text-anchor="end" fill="{TEXT}" '
                f'transform="rotate(-40 {x:.1f} {y})">{text}</text>'
            )
        else:
            parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle" fill="{TEXT}">{text}</text>')


def bar_chart(series: list[tuple[str, float]], title: str = "") -> str:
    if not series:
        return empty_chart(title)
    parts, values, top, plot_w, plot_h = _frame(series, title)
    slot = plot_w / len(series)
    width = max(1.0, slot * 0.7)
    xs = []
    for i, value in enumerate(values):
        x = LEFT + slot * i + (slot - width) / 2
        xs.append(x + width / 2)
        if value is None:  # undefined: no bar (a gap), unlike a real 0
            continue
        h = plot_h * value / top
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{BAR}">'
            f"<title>{escape(str(series[i][0]))}: {value:g}</title></rect>"
        )
        if len(series) <= 12 and value:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{TOP + plot_h - h - 3:.1f}" text-anchor="middle" '
                f'fill="#1d2330">{_fmt(value)}</text>'
            )
    _x_labels(parts, series, xs, plot_h)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(series: list[tuple[str, float]], title: str = "") -> str:
    if not series:
        return empty_chart(title)
    parts, values, top, plot_w, plot_h = _frame(series, title)
    step = plot_w / max(1, len(series) - 1) if len(series) > 1 else 0
    xs = [LEFT + (step * i if len(series) > 1 else plot_w / 2) for i in range(len(series))]
    for segment in line_segments(values):  # one polyline per run of defined values: gaps stay gaps
        points = " ".join(f"{xs[i]:.1f},{TOP + plot_h - plot_h * values[i] / top:.1f}" for i in segment)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{BAR}" stroke-width="2"/>')
    for (label, _), x, v in zip(series, xs, values, strict=True):
        if v is None:
            continue
        parts.append(
            f'<circle cx="{x:.1f}" cy="{TOP + plot_h - plot_h * v / top:.1f}" r="2.5" fill="{BAR}">'
            f"<title>{escape(str(label))}: {v:g}</title></circle>"
        )
    _x_labels(parts, series, xs, plot_h)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_segments(values: list) -> list[list[int]]:
    """Indexes of the runs of defined (not None) values, in order."""
    runs, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def empty_chart(title: str = "") -> str:
    text = gettext("%(title)s: no data") % {"title": title} if title else gettext("no data")
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 60" width="100%" class="chart" '
        f'font-family="{FONT}" font-size="12"><text x="{WIDTH / 2}" y="34" text-anchor="middle" fill="{TEXT}">'
        f"{escape(text)}</text></svg>"
    )


def chart(kind: str, series, title: str = "") -> str:
    return line_chart(series, title) if kind == "line" else bar_chart(series, title)
