"""Goals: the one way bench scripts print a goal against its measurement.

Every goal line starts with "goal |", so `bench/run_all.sh` can gather them into one summary;
it ends with "meets" or "MISSES", so a regression shows the day it is made.
"""

from __future__ import annotations

PREFIX = "goal |"


def check(what: str, measured: float, goal: float, unit: str, *, at_least: bool = False) -> bool:
    """Print `what` measured against its goal (at most `goal`, or at least with `at_least`);
    return whether it meets it."""
    meets = measured >= goal if at_least else measured <= goal
    sign = ">=" if at_least else "<="
    unit = f" {unit}" if unit else ""
    print(
        f"{PREFIX} {what} | {_number(measured)}{unit} | {sign} {_number(goal)}{unit} | "
        f"{'meets' if meets else 'MISSES'}",
        flush=True,
    )
    return meets


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
