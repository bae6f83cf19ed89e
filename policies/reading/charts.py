"""Numbers → SVG geometry for server-rendered charts (pure: no ORM, no HTML).

Templates draw the shapes; everything they need (paths, coordinates, tick labels, a text
description for screen readers) is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    path: str
    last_x: float
    last_y: float
    label: str


def sparkline(values: list[int], *, width: int = 120, height: int = 24) -> Sparkline | None:
    """A small line of `values` in order (policy length per capture); None when empty."""
    if not values:
        return None
    if len(values) == 1:
        # One capture is a point, not a flat line that reads as "never changed".
        return Sparkline(
            width, height, "", width / 2, height / 2, f"1 capture, {values[0]:,} words"
        )
    pad = 2.0
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    coords = [
        (pad + i * step, height - pad - (v - low) / span * (height - 2 * pad))
        for i, v in enumerate(values)
    ]
    path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    label = (
        f"{len(values)} captures, from {values[0]:,} to {values[-1]:,} words "
        f"(range {low:,}-{high:,})"
    )
    return Sparkline(width, height, path, coords[-1][0], coords[-1][1], label)


class TimeAxis:
    """Maps capture times to x positions between `left` and `width - right`, and labels years."""

    def __init__(self, times: list[datetime], width: float, left: float, right: float) -> None:
        self.times = times
        self.left, self.span = left, width - left - right
        self.t0 = min(t.timestamp() for t in times)
        self.t1 = max(t.timestamp() for t in times)

    def x(self, t: float) -> float:
        """x of a POSIX timestamp; a single capture sits in the middle."""
        if self.t1 == self.t0:
            return self.left + self.span / 2
        return self.left + (t - self.t0) / (self.t1 - self.t0) * self.span

    def ticks(self) -> list[tuple[float, str]]:
        """About six year labels inside the range, or the one date when there is no range."""
        first, last = min(self.times), max(self.times)
        step = max(1, (last.year - first.year) // 6 or 1)
        ticks = []
        for year in range(first.year, last.year + 1, step):
            t = datetime(year, 1, 1, tzinfo=first.tzinfo).timestamp()
            if self.t0 <= t <= self.t1:
                ticks.append((self.x(t), str(year)))
        return ticks or [(self.x(first.timestamp()), f"{first:%Y-%m-%d}")]


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class HistoryChart:
    width: int
    height: int
    plot_top: float
    plot_bottom: float
    bar_baseline: float
    length_path: str
    points: list[ChartPoint]
    bars: list[ChartBar]
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    description: str = ""


def history_chart(
    captures: list[tuple[datetime, int, int | None]],
    *,
    width: int = 760,
    height: int = 230,
) -> HistoryChart | None:
    """Policy length over time (line) and change size per capture (bars below).

    `captures` are (capture time, word count, words changed since the previous capture or None),
    oldest first. The x axis is time, so long quiet periods look long.
    """
    if not captures:
        return None
    left, right, top = 66.0, 12.0, 12.0
    line_bottom = height * 0.62
    bar_top, bar_baseline = line_bottom + 18, height - 22.0
    axis = TimeAxis([c[0] for c in captures], width, left, right)
    x_of = axis.x
    times = [c[0].timestamp() for c in captures]
    words = [c[1] for c in captures]
    wmax = max(words) or 1
    changes = [c[2] or 0 for c in captures]
    cmax = max(changes) or 1

    def y_of(w: int) -> float:
        return line_bottom - w / wmax * (line_bottom - top)

    points = [
        ChartPoint(x_of(t), y_of(w), f"{c[0]:%Y-%m-%d}: {w:,} words")
        for t, w, c in zip(times, words, captures, strict=True)
    ]
    path = "M" + " L".join(f"{p.x:.1f},{p.y:.1f}" for p in points)
    bar_w = max(2.0, min(10.0, (width - left - right) / max(len(captures), 1) * 0.6))
    bars = [
        ChartBar(
            x_of(t) - bar_w / 2,
            bar_baseline - ch / cmax * (bar_baseline - bar_top),
            bar_w,
            ch / cmax * (bar_baseline - bar_top),
            f"{c[0]:%Y-%m-%d}: {ch:,} words changed",
        )
        for t, ch, c in zip(times, changes, captures, strict=True)
        if ch
    ]
    y_ticks = [(y_of(v), f"{v:,}") for v in (0, wmax // 2, wmax)]
    x_ticks = axis.ticks()
    return HistoryChart(
        width=width,
        height=height,
        plot_top=top,
        plot_bottom=line_bottom,
        bar_baseline=bar_baseline,
        length_path=path,
        points=points,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        description=_describe(captures),
    )


def _describe(captures: list[tuple[datetime, int, int | None]]) -> str:
    """The chart in words, for screen readers and for anyone who would rather read."""
    words = [c[1] for c in captures]
    changes = [c[2] or 0 for c in captures]
    changed = sum(1 for ch in changes if ch)
    return (
        f"{len(captures)} captures from {captures[0][0]:%Y-%m-%d} to {captures[-1][0]:%Y-%m-%d}; "
        f"length from {words[0]:,} to {words[-1]:,} words (longest {max(words):,}); "
        f"{changed} captures changed the text, the largest change {max(changes):,} words."
    )
