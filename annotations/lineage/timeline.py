"""The practice timeline on a company's history page: for each category, which captures have
tagged clauses, and when a tagged clause changed, disappeared or appeared (server-rendered SVG)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count

from annotations.models import Annotation, LineageEvent
from policies.models import Company, Snapshot
from policies.reading.charts import TimeAxis

ROW_HEIGHT = 26
LEFT, RIGHT, TOP = 210.0, 12.0, 8.0


@dataclass(frozen=True)
class Dot:
    x: float
    r: float
    label: str


@dataclass(frozen=True)
class EventMark:
    x: float
    kind: str
    label: str


@dataclass(frozen=True)
class TimelineRow:
    slug: str
    name: str
    y: float
    dots: list[Dot]
    marks: list[EventMark]


@dataclass(frozen=True)
class PracticeTimeline:
    width: int
    height: int
    rows: list[TimelineRow]
    x_ticks: list[tuple[float, str]]
    events: list[LineageEvent]
    description: str


def practice_timeline(
    company: Company, snapshots: list[Snapshot], user=None, *, width: int = 760
) -> PracticeTimeline | None:
    """None when the company has no tags. Two queries: tag counts and lineage events."""
    counts = (
        Annotation.objects.visible_to(user or AnonymousUser())
        .filter(snapshot__company=company)
        .shown()
        .values("snapshot_id", "category__slug", "category__name", "category__order")
        .annotate(n=Count("id"))
    )
    per_category: dict[tuple[int, str, str], dict[int, int]] = {}
    for row in counts:
        key = (row["category__order"], row["category__slug"], row["category__name"])
        per_category.setdefault(key, {})[row["snapshot_id"]] = row["n"]
    if not per_category or not snapshots:
        return None
    events = list(
        LineageEvent.objects.filter(company=company)
        .select_related("origin__category", "before", "after")
        .order_by("after__captured_at", "pk")
    )
    axis = TimeAxis([s.captured_at for s in snapshots], width, LEFT, RIGHT)
    when = {s.pk: s.captured_at for s in snapshots}
    most = max(n for by_snapshot in per_category.values() for n in by_snapshot.values())
    rows = []
    for n, key in enumerate(sorted(per_category)):
        _, slug, name = key
        by_snapshot = per_category[key]
        y = TOP + ROW_HEIGHT * n + ROW_HEIGHT / 2
        dots = [
            Dot(
                axis.x(when[pk].timestamp()),
                3 + 5 * (count / most) ** 0.5,
                f"{when[pk]:%Y-%m-%d}: {count} {name} tag{'s' if count != 1 else ''}",
            )
            for pk, count in sorted(by_snapshot.items(), key=lambda item: when[item[0]])
            if pk in when
        ]
        marks = [
            EventMark(axis.x(e.after.captured_at.timestamp()), e.kind, str(e))
            for e in events
            if e.origin.category.slug == slug
        ]
        rows.append(TimelineRow(slug, name, y, dots, marks))
    removed = sum(1 for e in events if e.kind == LineageEvent.Kind.REMOVED)
    description = (
        f"Tags in {len(rows)} categories across {len(snapshots)} captures; "
        f"{len(events)} changes to tagged clauses, {removed} of them removals."
    )
    return PracticeTimeline(
        width=width,
        height=int(TOP * 2 + ROW_HEIGHT * len(rows) + 18),
        rows=rows,
        x_ticks=axis.ticks(),
        events=events,
        description=description,
    )
