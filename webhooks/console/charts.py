"""Server-rendered SVG charts for the dashboard (no script, no CDN; they scale to any width)."""
from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int], str]], title: str,
                 height: int = 240) -> Markup:
    """Vertical bars per label, each stacked from `series` (name, values, css class)."""
    n = max(1, len(labels))
    width = 600
    left, bottom, top = 44, 30, 12
    plot_h = height - bottom - top
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    peak = max([1, *totals])
    step = (width - left - 4) / n
    bar = max(2.0, step * 0.72)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{left}" x2="{width}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
                     f'<text class="axis" x="{left - 4}" y="{_fmt(y + 4)}" text-anchor="end">{round(peak * frac)}</text>')
    for i, label in enumerate(labels):
        x = left + i * step + (step - bar) / 2
        y = top + plot_h
        tip = [f"{label}"]
        for name, values, css in series:
            h = plot_h * values[i] / peak
            y -= h
            if h > 0:
                parts.append(f'<rect class="{css}" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bar)}" height="{_fmt(h)}"/>')
            tip.append(f"{name} {values[i]}")
        parts.append(f'<rect class="hit" x="{_fmt(x)}" y="{top}" width="{_fmt(bar)}" height="{plot_h}">'
                     f'<title>{escape("，".join(tip))}</title></rect>')
        every = max(1, n // 5)
        if i % every == 0 or i == n - 1:
            parts.append(f'<text class="axis" x="{_fmt(x + bar / 2)}" y="{height - 6}" text-anchor="middle">'
                         f'{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(items: Sequence[tuple[str, int]], title: str, css: str = "s1") -> Markup:
    """Horizontal bars with their labels and counts (top clauses, calculators)."""
    if not items:
        return Markup('<p class="muted">还没有数据。</p>')
    width, row = 600, 34
    label_w = 250
    peak = max(1, *(v for _, v in items))
    height = row * len(items) + 4
    parts = [f'<svg class="chart hbars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(items):
        y = i * row + 2
        w = (width - label_w - 50) * value / peak
        short = label if len(label) <= 11 else label[:10] + "…"
        parts.append(f'<text class="label" x="{label_w - 6}" y="{y + 23}" text-anchor="end">{escape(short)}'
                     f'<title>{escape(label)}</title></text>'
                     f'<rect class="{css}" x="{label_w}" y="{y + 4}" width="{_fmt(max(w, 1))}" height="{row - 9}"/>'
                     f'<text class="value" x="{_fmt(label_w + max(w, 1) + 6)}" y="{y + 23}">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_line(labels: Sequence[str], rates: Sequence[float | None], title: str, height: int = 220) -> Markup:
    """A line of percentages (the weekly fallback rate); weeks without questions leave a gap."""
    width, left, bottom, top = 600, 56, 30, 14
    plot_h = height - bottom - top
    n = max(1, len(labels))
    step = (width - left - 10) / max(1, n - 1)
    peak = max([10.0, *(r for r in rates if r is not None)])
    peak = min(100.0, (int(peak / 10) + 1) * 10)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{left}" x2="{width}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
                     f'<text class="axis" x="{left - 4}" y="{_fmt(y + 4)}" text-anchor="end">{_fmt(peak * frac)}%</text>')
    points: list[str] = []
    for i, (label, rate) in enumerate(zip(labels, rates)):
        x = left + i * step
        if rate is None:
            if len(points) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(points)}"/>')
            points = []
        else:
            y = top + plot_h * (1 - rate / peak)
            points.append(f"{_fmt(x)},{_fmt(y)}")
            parts.append(f'<circle class="dot" cx="{_fmt(x)}" cy="{_fmt(y)}" r="4"><title>{escape(label)}：'
                         f'{_fmt(rate)}%</title></circle>')
        if i % max(1, n // 5) == 0 or i == n - 1:
            parts.append(f'<text class="axis" x="{_fmt(x)}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>')
    if len(points) > 1:
        parts.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
