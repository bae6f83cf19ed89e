"""Half-year series → SVG geometry for the trends page (pure: no ORM, no HTML).

Each chart has a line per series over one axis of half-years, an optional band (the word
counts' quartiles), tick labels, and a description in words; the page also gives every
figure in a table, and the CSV the same rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from policies.reading.charts import ChartPoint, nice_ceiling

_MAX_X_TICKS = 8
SERIES_CLASSES = 6  # series-0 ... series-5 in the stylesheet, then again


@dataclass(frozen=True)
class Line:
    label: str
    css: str  # "series-N": its colour and dash in the stylesheet
    path: str
    points: list[ChartPoint]


@dataclass(frozen=True)
class SeasonChart:
    width: int
    height: int
    left: float
    right: float  # x where the plot ends
    top: float
    bottom: float  # the baseline
    lines: list[Line]
    band: str = ""  # an SVG path: the area between two series, "" for none
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    description: str = ""


def _format(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else f"{value:,.0f}"


def _x_ticks(seasons: list[str], x_of) -> list[tuple[float, str]]:
    """A year label at the start of every k-th year (k the smallest of 1, 2, 5, 10, ... that
    fits eight ticks); the first season when the range holds no year start."""
    years = [(n, s[:4]) for n, s in enumerate(seasons) if s.endswith("-A")]
    for step in (1, 2, 5, 10, 20, 50):
        chosen = [(n, y) for n, y in years if int(y) % step == 0]
        if len(chosen) <= _MAX_X_TICKS:
            break
    return [(x_of(n), year) for n, year in chosen] or [(x_of(0), seasons[0])]


def _path(coords: list[tuple[float, float] | None]) -> str:
    """Segments through the known points; a gap (None) starts a new segment."""
    parts, pen_down = [], False
    for point in coords:
        if point is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{point[0]:.1f},{point[1]:.1f}")
        pen_down = True
    return " ".join(parts)


def _describe(label: str, seasons: list[str], values: list[float | None], percent: bool) -> str:
    known = [(s, v) for s, v in zip(seasons, values, strict=True) if v is not None]
    if not known:
        return f"{label}: no data."
    (first_s, first_v), (last_s, last_v) = known[0], known[-1]
    top_s, top_v = max(known, key=lambda pair: pair[1])
    return (
        f"{label}: {_format(first_v, percent)} in {first_s}, {_format(last_v, percent)} in "
        f"{last_s}, highest {_format(top_v, percent)} in {top_s}."
    )


def season_chart(
    seasons: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    percent: bool = False,
    band: tuple[list[float | None], list[float | None]] | None = None,
    width: int = 760,
    height: int = 240,
) -> SeasonChart | None:
    """Lines of `series` (label, a value or None per season) over `seasons`, optionally with
    a band between two value lists; shares (0-1) when `percent`. None without seasons."""
    if not seasons or not series:
        return None
    left, right, top, bottom = 58.0, width - 12.0, 12.0, height - 24.0
    values = [v for _, vs in series for v in vs if v is not None]
    values += [v for vs in (band or ()) for v in vs if v is not None]
    top_value = max(values, default=0)
    if percent:
        y_max = min(1.0, nice_ceiling(math.ceil(top_value * 100)) / 100) if top_value else 1.0
    else:
        y_max = nice_ceiling(math.ceil(top_value))
    step = (right - left) / max(len(seasons) - 1, 1)

    def x_of(n: int) -> float:
        return left + n * step if len(seasons) > 1 else (left + right) / 2

    def y_of(v: float) -> float:
        return bottom - v / y_max * (bottom - top)

    lines = []
    for number, (label, row) in enumerate(series):
        coords = [None if v is None else (x_of(n), y_of(v)) for n, v in enumerate(row)]
        points = [
            ChartPoint(c[0], c[1], f"{label}, {s}: {_format(v, percent)}")
            for c, s, v in zip(coords, seasons, row, strict=True)
            if c is not None and v is not None
        ]
        lines.append(Line(label, f"series-{number % SERIES_CLASSES}", _path(coords), points))
    area = ""
    if band:
        low, high = band
        upper = [(x_of(n), y_of(v)) for n, v in enumerate(high) if v is not None]
        lower = [(x_of(n), y_of(v)) for n, v in reversed(list(enumerate(low))) if v is not None]
        if upper and lower:
            area = _path([*upper, *lower]) + " Z"
    ticks = [(y_of(v), _format(v, percent)) for v in (0, y_max / 2, y_max)]
    description = " ".join(_describe(label, seasons, row, percent) for label, row in series)
    return SeasonChart(
        width,
        height,
        left,
        right,
        top,
        bottom,
        lines,
        area,
        ticks,
        _x_ticks(seasons, x_of),
        description,
    )
