"""Charts as inline SVG strings built by hand (no matplotlib, no fonts, no network): cost vs volume on log
axes with break-evens marked, latency box-and-strip per system, grouped bars for retrieval quality."""
from __future__ import annotations

import math
from html import escape
from typing import Sequence

import numpy as np

PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563")
_FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif"'


def colors(systems: Sequence[str]) -> dict[str, str]:
    """One stable color per system, in the order the run lists them."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(systems)}


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label="{escape(label)}" {_FONT} font-size="12">' + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", **attrs: str) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{escape(str(value))}"' for key, value in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def short_number(value: float) -> str:
    """1.5k, 20k, 1.2M: volumes on an axis."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _dollars(value: float) -> str:
    return "$" + short_number(value) if value >= 1 else f"${value:.2g}"


class _LogScale:
    def __init__(self, low: float, high: float, start: float, end: float):
        self.low, self.high = math.floor(math.log10(low)), math.ceil(math.log10(high))
        if self.high == self.low:
            self.high += 1
        self.start, self.end = start, end
        self.floor = 10.0 ** self.low

    def __call__(self, value: float) -> float:
        share = (math.log10(max(value, self.floor)) - self.low) / (self.high - self.low)
        return self.start + share * (self.end - self.start)

    def ticks(self) -> list[float]:
        return [10.0 ** power for power in range(self.low, self.high + 1)]


def cost_chart(report, systems: Sequence[str] = (), width: int = 760, height: int = 400) -> str:
    """Monthly cost of each system against queries per month (log-log), break-evens and the planned volume;
    `systems` fixes the color order so a system has the same color in every chart."""
    curve = report.curve
    names = list(curve.monthly_usd)
    palette = colors([*systems, *(n for n in names if n not in systems)])
    positive = [v for values in curve.monthly_usd.values() for v in values if v > 0] or [1.0]
    left, right, top, bottom = 64, width - 16, 28, height - 70
    x = _LogScale(min(curve.volumes), max(curve.volumes), left, right)
    y = _LogScale(min(positive), max(positive), bottom, top)
    body = _log_grid(x, y, left, right, top, bottom)
    for name in names:
        points = " ".join(f"{x(v):.1f},{y(c):.1f}" for v, c in zip(curve.volumes, curve.monthly_usd[name]))
        body.append(f'<polyline points="{points}" fill="none" stroke="{palette[name]}" stroke-width="2.5">'
                    f"<title>{escape(name)}</title></polyline>")
    planned = x(report.volume_per_month)
    body.append(f'<line x1="{planned:.1f}" y1="{top}" x2="{planned:.1f}" y2="{bottom}" stroke="#111827" '
                f'stroke-opacity="0.35" stroke-width="1.5"/>')
    body.append(_text(planned + 4, top + 12, f"planned {short_number(report.volume_per_month)}/mo",
                      fill="#374151", font_size="11"))
    body += _break_even_marks(report, x, y, top, bottom)
    body.append(_text((left + right) / 2, bottom + 36, "queries per month", "middle", fill="#374151"))
    body.append(_text(14, (top + bottom) / 2, "USD per month", "middle", fill="#374151",
                      transform=f"rotate(-90 14 {(top + bottom) / 2:.1f})"))
    body += _legend(names, palette, left, height - 12)
    return _svg(width, height, "Monthly cost by query volume", body)


def _log_grid(x: _LogScale, y: _LogScale, left, right, top, bottom) -> list[str]:
    body = [f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="#fafafa" '
            f'stroke="#e5e7eb"/>']
    for tick in x.ticks():
        px = x(tick)
        body.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{bottom}" stroke="#e5e7eb"/>')
        body.append(_text(px, bottom + 16, short_number(tick), "middle", fill="#6b7280", font_size="11"))
    for tick in y.ticks():
        py = y(tick)
        body.append(f'<line x1="{left}" y1="{py:.1f}" x2="{right}" y2="{py:.1f}" stroke="#e5e7eb"/>')
        body.append(_text(left - 6, py + 4, _dollars(tick), "end", fill="#6b7280", font_size="11"))
    return body


def _break_even_marks(report, x: _LogScale, y: _LogScale, top: float, bottom: float) -> list[str]:
    low, high = 10.0 ** x.low, 10.0 ** x.high
    body = []
    shown = [e for e in report.break_evens if e.volume_per_month and low <= e.volume_per_month <= high]
    for i, even in enumerate(shown):
        volume = even.volume_per_month
        px = x(volume)
        py = y(report.system(even.a).monthly_at(volume))
        label = f"break-even {even.a} = {even.b}: {short_number(volume)}/mo"
        body.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{bottom}" stroke="#6b7280" '
                    f'stroke-dasharray="4 4"/>')
        body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="#fff" stroke="#111827" stroke-width="2">'
                    f"<title>{escape(label)}</title></circle>")
        anchor = "end" if px > (x.start + x.end) / 2 else "start"
        body.append(_text(px + (-6 if anchor == "end" else 6), bottom - 8 - 15 * i, label, anchor,
                          fill="#111827", font_size="11", class_="break-even"))
    return body


def _legend(names: Sequence[str], palette: dict[str, str], left: float, baseline: float) -> list[str]:
    body, at = [], left
    for name in names:
        body.append(f'<rect x="{at:.1f}" y="{baseline - 10:.1f}" width="14" height="4" fill="{palette[name]}"/>')
        body.append(_text(at + 20, baseline - 5, name, fill="#111827"))
        at += 34 + 7.5 * len(name)
    return body


def latency_chart(samples: dict[str, list[float]], systems: Sequence[str], width: int = 760) -> str:
    """Per system: every question's total seconds as a dot, the box from p25 to p75, median and p95 marked."""
    rows = [name for name in systems if samples.get(name)]
    palette = colors(systems)
    row_height, left, right, top = 46, 120, width - 210, 16
    height = top + row_height * max(len(rows), 1) + 40
    high = max((max(samples[n]) for n in rows), default=1.0) * 1.05 or 1.0
    scale = lambda value: left + value / high * (right - left)  # noqa: E731
    body = _linear_axis(scale, high, left, right, top, height - 40, "seconds per question (total)")
    for i, name in enumerate(rows):
        values = np.asarray(samples[name], dtype=float)
        middle = top + row_height * i + row_height / 2
        p25, p50, p75, p95 = np.percentile(values, [25, 50, 75, 95])
        color = palette[name]
        body.append(_text(left - 10, middle + 4, name, "end", fill="#111827", font_weight="600"))
        body.append(f'<line x1="{scale(values.min()):.1f}" y1="{middle:.1f}" x2="{scale(values.max()):.1f}" '
                    f'y2="{middle:.1f}" stroke="{color}" stroke-opacity="0.5"/>')
        body.append(f'<rect x="{scale(p25):.1f}" y="{middle - 11:.1f}" width="{max(scale(p75) - scale(p25), 1):.1f}" '
                    f'height="22" fill="{color}" fill-opacity="0.15" stroke="{color}" rx="3"/>')
        body.append(f'<line x1="{scale(p50):.1f}" y1="{middle - 11:.1f}" x2="{scale(p50):.1f}" y2="{middle + 11:.1f}" '
                    f'stroke="{color}" stroke-width="3"/>')
        body.append(f'<path d="M{scale(p95):.1f},{middle - 15:.1f} l-4,-6 h8 z" fill="#111827">'
                    f"<title>p95 {p95:.3g} s</title></path>")
        for j, value in enumerate(values):
            jitter = ((j * 7919) % 17 - 8) * 0.9
            body.append(f'<circle cx="{scale(value):.1f}" cy="{middle + jitter:.1f}" r="2.3" fill="{color}" '
                        f'fill-opacity="0.45"/>')
        body.append(_text(right + 10, middle + 4, f"p50 {seconds(p50)} · p95 {seconds(p95)}", fill="#374151",
                          font_size="11"))
    return _svg(width, height, "Latency per question by system", body)


def seconds(value: float) -> str:
    """2.41 s, 974 ms, 0.0387 ms: a duration readable at any scale."""
    if abs(value) >= 1:
        return f"{value:,.2f} s"
    if abs(value) >= 0.01 or value == 0:
        return f"{value * 1000:.0f} ms"
    return f"{value * 1000:.3g} ms"


def _linear_axis(scale, high: float, left, right, top, bottom, label: str) -> list[str]:
    step = _nice_step(high / 5)
    body = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#9ca3af"/>']
    tick = 0.0
    while tick <= high + 1e-12:
        px = scale(tick)
        body.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{bottom}" stroke="#f3f4f6"/>')
        body.append(_text(px, bottom + 15, f"{tick:.3g}", "middle", fill="#6b7280", font_size="11"))
        tick += step
    body.append(_text((left + right) / 2, bottom + 32, label, "middle", fill="#374151"))
    return body


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def bar_chart(values: dict[str, dict[str, float]], metrics: Sequence[str], systems: Sequence[str],
              width: int = 760, height: int = 300, label: str = "Retrieval quality",
              names: dict[str, str] | None = None) -> str:
    """Grouped bars on a 0-1 scale: one group per metric (shown as `names[metric]`), one bar per system."""
    palette = colors(systems)
    shown = [name for name in systems if values.get(name)]
    left, right, top, bottom = 48, width - 16, 16, height - 60
    group = (right - left) / max(len(metrics), 1)
    bar = min(36.0, (group - 24) / max(len(shown), 1))
    body = []
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        py = bottom - tick * (bottom - top)
        body.append(f'<line x1="{left}" y1="{py:.1f}" x2="{right}" y2="{py:.1f}" stroke="#e5e7eb"/>')
        body.append(_text(left - 6, py + 4, f"{tick:g}", "end", fill="#6b7280", font_size="11"))
    for g, metric in enumerate(metrics):
        start = left + g * group + (group - bar * len(shown)) / 2
        for s, name in enumerate(shown):
            value = values[name].get(metric)
            if value is None:
                continue
            px, py = start + s * bar, bottom - value * (bottom - top)
            body.append(f'<rect x="{px + 2:.1f}" y="{py:.1f}" width="{bar - 4:.1f}" height="{bottom - py:.1f}" '
                        f'fill="{palette[name]}" rx="2"><title>{escape(f"{name} {metric}: {value:.3f}")}</title>'
                        "</rect>")
            body.append(_text(px + bar / 2, py - 4, f"{value:.2f}", "middle", fill="#374151", font_size="10"))
        body.append(_text(left + g * group + group / 2, bottom + 16, (names or {}).get(metric, metric), "middle",
                          fill="#111827"))
    body += _legend(shown, palette, left, height - 10)
    return _svg(width, height, label, body)
