"""Half-years, the PLL's seasons, and the quartiles of a season's word counts (pure: no ORM).

A season is a half-year of capture time in UTC: "2016-A" is January to June 2016, "2016-B"
July to December. A company's *policy* in a season is its latest capture in it, so a company
captured twenty times in a half-year weighs as much as one captured once (as the PLL corpus
samples one policy per site and season).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime

SEASON = re.compile(r"^(\d{4})-([AB])$")


def season_of(moment: datetime) -> str:
    """The season of a capture time: "2016-A" (January-June) or "2016-B" (July-December)."""
    moment = moment.astimezone(UTC)
    return f"{moment.year}-{'A' if moment.month <= 6 else 'B'}"


def season_bounds(season: str) -> tuple[datetime, datetime]:
    """[start, end) of a season in UTC."""
    match = SEASON.match(season)
    if match is None:
        raise ValueError(f"not a season: {season!r}")
    year, half = int(match.group(1)), match.group(2)
    if half == "A":
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year, 7, 1, tzinfo=UTC)
    return datetime(year, 7, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def seasons_between(first: str, last: str) -> list[str]:
    """Every season from `first` to `last`, both included, in order (gaps filled)."""
    found, season = [], first
    while season <= last:
        found.append(season)
        year, half = int(season[:4]), season[5]
        season = f"{year}-B" if half == "A" else f"{year + 1}-A"
    return found


def quantile(ordered: Sequence[float], share: float) -> float:
    """The `share` quantile of ascending values by linear interpolation between the closest
    ranks: PostgreSQL's percentile_cont, numpy's default and Python's
    `statistics.quantiles(method="inclusive")`. For [1, 2, 3, 4] the quartiles are 1.75, 2.5
    and 3.25."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * share
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def quartiles(values: Sequence[int]) -> tuple[float, float, float] | None:
    """(first quartile, median, third quartile) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return quantile(ordered, 0.25), quantile(ordered, 0.5), quantile(ordered, 0.75)
