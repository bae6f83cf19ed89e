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


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_TICK_STEPS = (1, 3, 6, 12, 24, 60, 120)  # months between time ticks: month, season, ...
_MAX_TIME_TICKS = 8


class TimeAxis:
    """Maps capture times to x positions between `left` and `width - right`, and labels them:
    years for a long history, seasons (Jan, Apr, Jul, Oct) or months for a short one."""

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
        """At most eight ticks at the first of a month, every 1, 3, 6, 12, ... months (the
        smallest step that fits); a January says its year, other months their name (and the
        year on the first tick). One date when there is no range."""
        first = min(self.times)
        for step in _TICK_STEPS:
            months = self._months(step)
            if len(months) <= _MAX_TIME_TICKS:
                break
        ticks = []
        for n, (year, month) in enumerate(months):
            t = datetime(year, month, 1, tzinfo=first.tzinfo).timestamp()
            label = str(year) if month == 1 else _MONTHS[month - 1]
            if n == 0 and month != 1:
                label += f" {year}"
            ticks.append((self.x(t), label))
        return ticks or [(self.x(first.timestamp()), f"{first:%Y-%m-%d}")]

    def _months(self, step: int) -> list[tuple[int, int]]:
        """(year, month) of every month start inside the range whose month index is a
        multiple of `step` (so quarters start in January and years in a round year)."""
        first, last = min(self.times), max(self.times)
        index = first.year * 12 + first.month - 1
        if datetime(first.year, first.month, 1, tzinfo=first.tzinfo) < first:
            index += 1  # the first month start inside the range
        index += -index % step
        found = []
        while True:
            year, month = divmod(index, 12)
            if datetime(year, month + 1, 1, tzinfo=first.tzinfo) > last:
                return found
            found.append((year, month + 1))
            index += step


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= value: a round top for a scale."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= value and (factor * magnitude) == int(factor * magnitude):
            return int(factor * magnitude)
    return 10 * magnitude


POINT_RADIUS = 3.0  # the template's capture dots


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
    """Two panels over one time axis: the policy's length (a line, its scale from 0 at the
    panel's foot) and the words changed at each capture (bars, their own scale)."""

    width: int
    height: int
    left: float
    right: float  # x where the plots end
    length_title_y: float
    plot_top: float
    plot_bottom: float
    changes_title_y: float
    bar_top: float
    bar_baseline: float
    length_path: str
    points: list[ChartPoint]
    bars: list[ChartBar]
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    bar_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str, str]] = field(default_factory=list)  # x, label, text-anchor
    description: str = ""


def history_chart(
    captures: list[tuple[datetime, int, int | None]],
    *,
    width: int = 760,
    height: int = 270,
) -> HistoryChart | None:
    """Policy length over time (line) and change size per capture (bars below).

    `captures` are (capture time, word count, words changed since the previous capture or None),
    oldest first. The x axis is time, so long quiet periods look long.
    """
    if not captures:
        return None
    left, right = 66.0, 12.0
    length_title_y, top, line_bottom = 12.0, 28.0, height * 0.55
    changes_title_y = line_bottom + 26
    bar_top, bar_baseline = changes_title_y + 14, height - 24.0
    axis, bar_w = _time_axis([c[0] for c in captures], width, left, right)
    times = [c[0].timestamp() for c in captures]
    wmax = nice_ceiling(max(c[1] for c in captures))
    changes = [c[2] or 0 for c in captures]
    cmax = nice_ceiling(max(changes))

    def y_of(w: int) -> float:
        return line_bottom - w / wmax * (line_bottom - top)

    def bar_height(ch: int) -> float:
        return ch / cmax * (bar_baseline - bar_top)

    points = [
        ChartPoint(axis.x(t), y_of(c[1]), f"{c[0]:%Y-%m-%d}: {c[1]:,} words")
        for t, c in zip(times, captures, strict=True)
    ]
    bars = [
        _bar(
            axis.x(t), bar_w, bar_baseline, bar_height(ch), f"{c[0]:%Y-%m-%d}: {ch:,} words changed"
        )
        for t, ch, c in zip(times, changes, captures, strict=True)
        if ch
    ]
    return HistoryChart(
        width=width,
        height=height,
        left=left,
        right=width - right,
        length_title_y=length_title_y,
        plot_top=top,
        plot_bottom=line_bottom,
        changes_title_y=changes_title_y,
        bar_top=bar_top,
        bar_baseline=bar_baseline,
        length_path="M" + " L".join(f"{p.x:.1f},{p.y:.1f}" for p in points),
        points=points,
        bars=bars,
        y_ticks=[(y_of(v), f"{v:,}") for v in (0, wmax // 2, wmax)],
        bar_ticks=[(bar_baseline - bar_height(v), f"{v:,}") for v in (0, cmax)],
        x_ticks=[(x, label, _anchor(x, left, width - right)) for x, label in axis.ticks()],
        description=_describe(captures),
    )


def _time_axis(
    times: list[datetime], width: int, left: float, right: float
) -> tuple[TimeAxis, float]:
    """The history chart's time axis and its bars' width. The first and last captures sit half
    a bar (and a point's radius) inside the plot, so that their bars and dots end at its edges
    instead of past them."""
    bar_w = max(2.0, min(10.0, (width - left - right) / max(len(times), 1) * 0.6))
    inset = max(bar_w / 2, POINT_RADIUS) + 1
    return TimeAxis(times, width, left + inset, right + inset), bar_w


# A tick label this close to a plot edge is aligned to its tick instead of centred on it, so it
# stays inside the figure (labels are up to about 50 units wide at the phone's 18 px text).
_EDGE = 30.0


def _anchor(x: float, left: float, right: float) -> str:
    """The text-anchor of a time label at `x`: centred, or kept inside near an edge."""
    if x > right - _EDGE:
        return "end"
    if x < left + _EDGE:
        return "start"
    return "middle"


def _bar(x: float, width: float, baseline: float, height: float, label: str) -> ChartBar:
    """A bar centred on `x`, standing on `baseline`."""
    return ChartBar(x - width / 2, baseline - height, width, height, label)


def _describe(captures: list[tuple[datetime, int, int | None]]) -> str:
    """The chart in words, for screen readers and for anyone who would rather read."""
    words = [c[1] for c in captures]
    changes = [c[2] or 0 for c in captures]
    changed = sum(1 for ch in changes if ch)
    return (
        f"{len(captures)} captures from {captures[0][0]:%Y-%m-%d} to {captures[-1][0]:%Y-%m-%d}; "
        f"length from {words[0]:,} to {words[-1]:,} words (longest {max(words):,}); "
        f"{changed} capture{'' if changed == 1 else 's'} changed the text, the largest change "
        f"{max(changes):,} words."
    )
