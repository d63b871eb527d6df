"""Small dependency-free SVG charts for the monthly analysis.

Text stays text (``<text>``), so Chinese names render in the viewer's own CJK font and can be
searched and copied; the font list names the usual CJK faces on Windows, macOS and Linux.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

FONT = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', "
    "'WenQuanYi Micro Hei', SimHei, sans-serif"
)
PALETTE = ("#2f6db5", "#d9822b", "#3a9d5d", "#b83b5e", "#7a5cc2", "#6b6b6b")


def count_ticks(value: float, most: int) -> list[int]:
    """Whole-number ticks from 0 for an axis of counts: a step of 1, 2 or 5 times a power of
    ten, the fewest ticks up to ``most`` intervals, ending at the first tick at or above the
    data (3 submissions: 0 1 2 3, never 0 0.75 1.5 ...)."""
    top = max(math.ceil(value), 1)
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if math.ceil(top / step) <= most:
                return list(range(0, step * math.ceil(top / step) + 1, step))
        power *= 10


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def _text(x: float, y: float, content: str, **attrs: str | float) -> str:
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _document(width: int, height: int, title: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)} '
            f'font-family={quoteattr(FONT)} font-size="12">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
            _text(width / 2, 24, title, text_anchor="middle", font_size=16, font_weight="bold"),
            *body,
            "</svg>",
            "",
        ]
    )


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float], *, width: int = 760
) -> str:
    """Horizontal bars, one per label (sub-bureau names are long and many: rows read better)."""
    row_height, top, left, right = 22, 44, 170, 60
    height = top + row_height * max(len(labels), 1) + 30
    ticks = count_ticks(max(values, default=0), 5)
    span = float(ticks[-1])
    plot = width - left - right
    body: list[str] = []
    for tick in ticks:
        x = left + plot * tick / span
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 26}" stroke="#e3e3e3"/>'
        )
        body.append(_text(x, height - 10, str(tick), text_anchor="middle", fill="#555"))
    for index, (name, value) in enumerate(zip(labels, values, strict=True)):
        y = top + index * row_height
        length = plot * value / span
        body.append(_text(left - 8, y + 15, name, text_anchor="end"))
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row_height - 6}" '
            f'fill="{PALETTE[0]}"><title>{escape(f"{name}: {_number(value)}")}</title></rect>'
        )
        body.append(_text(left + length + 6, y + 15, _number(value)))
    if not labels:
        body.append(_text(width / 2, top + 14, "无数据 no data", text_anchor="middle"))
    return _document(width, height, title, body)


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 760,
    height: int = 380,
) -> str:
    """One line per series over the x labels (months), with a legend under the title."""
    top, bottom, left, right = 64, 46, 56, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = count_ticks(max((v for _, values in series for v in values), default=0), 6)
    span = float(ticks[-1])
    steps = max(len(x_labels) - 1, 1)
    body: list[str] = []
    for tick in ticks:
        y = top + plot_h - plot_h * tick / span
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e3e3"/>'
        )
        body.append(_text(left - 6, y + 4, str(tick), text_anchor="end", fill="#555"))
    for index, name in enumerate(x_labels):
        x = left + plot_w * index / steps
        body.append(_text(x, height - bottom + 18, name, text_anchor="middle", fill="#555"))
    legend_x = left
    for number, (name, values) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        body.append(f'<rect x="{legend_x}" y="36" width="12" height="12" fill="{colour}"/>')
        body.append(_text(legend_x + 16, 46, name))
        legend_x += 28 + 13 * len(name)
        points = [
            (left + plot_w * i / steps, top + plot_h - plot_h * v / span)
            for i, v in enumerate(values)
        ]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for (x, y), label, value in zip(points, x_labels, values, strict=False):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(f'{name} {label}: {_number(value)}')}</title></circle>"
            )
    return _document(width, height, title, body)
