"""A tag follows its clause through the company's history.

For an original tag and each other capture of the company:

- the same clause (whitespace-normalised text, at any position) → a *carried* copy, shown at once;
- a close match (similarity >= 0.8, preferring the section with the same heading) → a *proposed*
  copy, queued for review with the old and new wording;
- nothing → no copy; the change is recorded as a `LineageEvent` ("removed between A and B").

All work for a batch of tags and captures takes a fixed number of queries, so tagging a clause
that appears in 40 captures, or importing a capture of a company with 1,000 tags, stays cheap.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from rapidfuzz import fuzz

from annotations.models import Annotation, LineageEvent
from policies.models import Section, Snapshot
from policies.reading.clauses import split_clauses

CLOSE_MATCH = 80.0  # rapidfuzz ratio, 0-100
CONTEXT = 32
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Match:
    section: Section
    start: int
    end: int
    exact: bool
    similarity: float


def normalise(text: str) -> str:
    """Whitespace-insensitive form of a clause."""
    return _SPACE.sub(" ", text).strip()


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """`normalise(text)` and, for each of its characters, the index it came from in `text`."""
    out, index = [], []
    pending_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            index.append(i - 1)
            pending_space = False
        out.append(ch)
        index.append(i)
    return "".join(out), index


def context_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The prefix and suffix a TextQuoteSelector stores with a quote."""
    return text[max(0, start - CONTEXT) : start], text[end : end + CONTEXT]


def find_clause(quote: str, heading: str, sections: list[Section]) -> Match | None:
    """Where `quote` appears in `sections`: exactly (any section, same heading first), else the
    closest clause in the same-heading section (or anywhere) if similar enough."""
    wanted = normalise(quote)
    if not wanted:
        return None
    ordered = sorted(sections, key=lambda s: (s.heading != heading, s.position))
    for section in ordered:
        norm, index = _normalised(section)
        at = norm.find(wanted)
        if at >= 0:
            return Match(section, index[at], index[at + len(wanted) - 1] + 1, True, 100.0)
    best: Match | None = None
    candidates = [s for s in ordered if s.heading == heading] or ordered
    for section in candidates:
        for start, end in _clause_spans(section):
            score = fuzz.ratio(wanted, normalise(section.plain[start:end]))
            if score >= CLOSE_MATCH and (best is None or score > best.similarity):
                best = Match(section, start, end, False, score)
    return best


def _normalised(section: Section) -> tuple[str, list[int]]:
    """The section's normalised text and index map, computed once per section object."""
    if not hasattr(section, "_normalised"):
        section._normalised = _normalise_with_map(section.plain)
    return section._normalised


def _clause_spans(section: Section) -> list[tuple[int, int]]:
    """Clause spans of a section's text (blocks are lines), computed once per section object."""
    if not hasattr(section, "_clause_spans"):
        spans, base = [], 0
        for line in section.plain.split("\n"):
            spans.extend((base + a, base + b) for a, b in split_clauses(line))
            base += len(line) + 1
        section._clause_spans = spans
    return section._clause_spans


def _sections_by_text(text_ids: set[int]) -> dict[int, list[Section]]:
    """Sections of the texts with their readable text (derived at import)."""
    by_text: dict[int, list[Section]] = defaultdict(list)
    for section in Section.objects.filter(text_id__in=text_ids).only(
        "pk", "text_id", "position", "heading", "plain"
    ):
        by_text[section.text_id].append(section)
    return by_text


# Above this many origins, queries select them by company rather than by a long list of ids.
_ID_LIST_LIMIT = 200


def _origins_q(origins: list[Annotation], field: str = "origin") -> Q:
    """Rows belonging to `origins`, as a filter that stays short for a thousand of them."""
    if len(origins) <= _ID_LIST_LIMIT:
        return Q(**{f"{field}_id__in": [o.pk for o in origins]})
    return Q(**{f"{field}__snapshot__company_id__in": {o.snapshot.company_id for o in origins}})


def follow(origins: list[Annotation], targets: list[Snapshot] | None = None) -> int:
    """Create carried and proposed copies of original tags on the company's other captures.

    `targets` limits the captures considered (a freshly imported capture); by default every
    capture of each origin's company. Returns the number of copies created. Lineage events are
    recomputed for the origins (around the targets only, when targets are given).
    """
    if not origins:
        return 0
    company_ids = {o.snapshot.company_id for o in origins}
    around = targets
    if targets is None:
        targets = list(
            Snapshot.objects.filter(company_id__in=company_ids).only(
                "pk", "company_id", "text_id", "captured_at"
            )
        )
    origin_sections = {
        s.pk: s
        for s in Section.objects.filter(pk__in={o.section_id for o in origins}).only(
            "pk", "text_id", "position", "heading", "plain"
        )
    }
    sections = _sections_by_text({t.text_id for t in targets})
    existing = set(
        Annotation.objects.filter(
            _origins_q(origins), snapshot_id__in=[t.pk for t in targets]
        ).values_list("origin_id", "snapshot_id")
    )
    copies, matches = [], {}
    for origin in origins:
        heading = origin_sections[origin.section_id].heading
        for target in targets:
            if target.company_id != origin.snapshot.company_id:
                continue
            if target.pk == origin.snapshot_id or (origin.pk, target.pk) in existing:
                continue
            key = (origin.pk, target.text_id)
            if target.text_id == origin.snapshot.text_id:  # identical capture: same place
                section = origin_sections[origin.section_id]
                matches[key] = Match(section, origin.start, origin.end, True, 100.0)
            if key not in matches:
                matches[key] = find_clause(origin.quote, heading, sections[target.text_id])
            match = matches[key]
            if match is None:
                continue
            copies.append(_copy(origin, target, match))
    with transaction.atomic():
        if around is not None and connection.vendor == "postgresql":
            # Freshly imported captures have no tags yet, so nothing can conflict: COPY writes
            # a thousand copies in a quarter of the time bulk_create takes.
            created = _copy_in(copies)
        else:
            created = len(
                Annotation.objects.bulk_create(copies, batch_size=1000, ignore_conflicts=True)
            )
        refresh_events(origins, around=around)
    return created


def _copy_in(annotations: list[Annotation]) -> int:
    """Insert new tags with PostgreSQL's COPY (values prepared by the model fields as usual)."""
    fields = [f for f in Annotation._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {Annotation._meta.db_table} ({columns}) FROM STDIN"  # nosec B608: model names
        ) as copy,
    ):
        for annotation in annotations:
            copy.write_row(
                [f.get_db_prep_save(f.pre_save(annotation, True), connection) for f in fields]
            )
    return len(annotations)


def _copy(origin: Annotation, target: Snapshot, match: Match) -> Annotation:
    text = match.section.plain
    prefix, suffix = context_around(text, match.start, match.end)
    return Annotation(
        snapshot_id=target.pk,
        section_id=match.section.pk,
        start=match.start,
        end=match.end,
        quote=text[match.start : match.end],
        prefix=prefix,
        suffix=suffix,
        category_id=origin.category_id,
        attributes=origin.attributes,
        note=origin.note,
        annotator_id=origin.annotator_id,
        # A copy belongs to its origin's campaign and layer: hidden while that campaign runs.
        campaign_id=origin.campaign_id,
        layer=origin.layer,
        kind=Annotation.Kind.CARRIED if match.exact else Annotation.Kind.PROPOSED,
        status=Annotation.Status.ACTIVE if match.exact else Annotation.Status.PENDING,
        origin_id=origin.pk,
        origin_quote="" if match.exact else origin.quote,
    )


def refresh_events(origins: list[Annotation], around: list[Snapshot] | None = None) -> None:
    """Recompute when each origin's clause changed, disappeared or appeared along the timeline.

    With `around` (newly imported captures), only the transitions into and out of those
    captures change; the rest of the history is left as it is.
    """
    company_ids = {o.snapshot.company_id for o in origins}
    timeline: dict[int, list[int]] = defaultdict(list)
    for pk, company_id in (
        Snapshot.objects.filter(company_id__in=company_ids)
        .order_by("captured_at", "pk")
        .values_list("pk", "company_id")
    ):
        timeline[company_id].append(pk)
    pairs: dict[int, list[tuple[int, int]]] = {}
    touched = {t.pk for t in around} if around is not None else None
    for company_id, snapshots in timeline.items():
        adjacent = list(zip(snapshots, snapshots[1:], strict=False))
        if touched is not None:
            adjacent = [(a, b) for a, b in adjacent if a in touched or b in touched]
        pairs[company_id] = adjacent
    scope = {pk for adjacent in pairs.values() for pair in adjacent for pk in pair}
    origin_ids = {o.pk for o in origins}
    state: dict[tuple[int, int], str] = {(o.pk, o.snapshot_id): "exact" for o in origins}
    copies = Annotation.objects.filter(_origins_q(origins))
    if touched is not None:
        copies = copies.filter(snapshot_id__in=scope)
    for origin_id, snapshot_id, kind in copies.values_list("origin_id", "snapshot_id", "kind"):
        if origin_id in origin_ids:
            state[origin_id, snapshot_id] = (
                "exact" if kind == Annotation.Kind.CARRIED else "changed"
            )
    events = []
    for origin in origins:
        company_id = origin.snapshot.company_id
        for before, after in pairs[company_id]:
            was = state.get((origin.pk, before), "absent")
            now = state.get((origin.pk, after), "absent")
            kind = _transition(was, now)
            if kind:
                events.append(
                    LineageEvent(
                        origin_id=origin.pk,
                        company_id=company_id,
                        kind=kind,
                        before_id=before,
                        after_id=after,
                    )
                )
    stale = LineageEvent.objects.filter(_origins_q(origins))
    if touched is not None:
        # Replace the recomputed transitions, and any event between captures that a new
        # capture now separates; leave the rest of the history alone.
        recomputed = {pair for adjacent in pairs.values() for pair in adjacent}
        adjacent_now = {
            pair
            for snapshots in timeline.values()
            for pair in zip(snapshots, snapshots[1:], strict=False)
        }
        candidates = stale.filter(before_id__in=scope, after_id__in=scope).values_list(
            "pk", "before_id", "after_id"
        )
        stale = LineageEvent.objects.filter(
            pk__in=[
                pk
                for pk, before, after in candidates
                if (before, after) in recomputed or (before, after) not in adjacent_now
            ]
        )
    stale.delete()
    LineageEvent.objects.bulk_create(events, batch_size=1000)


def _transition(was: str, now: str) -> str | None:
    if was != "absent" and now == "absent":
        return LineageEvent.Kind.REMOVED
    if was == "absent" and now != "absent":
        return LineageEvent.Kind.APPEARED
    if was == "exact" and now == "changed":
        return LineageEvent.Kind.CHANGED
    return None


def follow_into_new_captures(snapshot_ids: list[int]) -> int:
    """Give freshly imported captures the tags of their companies (called by the importer)."""
    targets = list(
        Snapshot.objects.filter(pk__in=snapshot_ids).only(
            "pk", "company_id", "text_id", "captured_at"
        )
    )
    company_ids = {t.company_id for t in targets}
    origins = list(
        Annotation.objects.filter(
            kind=Annotation.Kind.ORIGINAL, snapshot__company_id__in=company_ids
        ).select_related("snapshot")
    )
    return follow(origins, targets) if origins else 0
