"""A tag follows its clause through the company's history.

For an original tag and each other capture of the company, the clauses of the two captures are
paired one to one (`align.align_clauses`: identical clauses, then similar ones, inside the
sections the compare page aligns and then across the policy), and the tag's clause decides:

- paired with an identical whole clause → a *carried* copy, shown at once;
- paired with a similar clause (a clause found inside a longer one included) → a *proposed* copy,
  queued for review with the old and new wording and the similarity;
- not paired → no copy; the change is recorded as a `LineageEvent` ("removed between A and B").

Where a copy lands on a span that already has the same tag (same category and annotator), it is
stored as *merged* into that tag rather than dropped; copies of different tags on one span are
all kept. `follow` returns what it did.

All work for a batch of tags and captures takes a fixed number of queries, so tagging a clause
that appears in 40 captures, or importing a capture of a company with 1,000 tags, stays cheap.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, fields
from operator import attrgetter

from django.db import connection, transaction
from django.db.models import F, Q

from annotations.lineage.align import (
    Alignment,
    Capture,
    SectionText,
    align_clauses,
    normalise,
    normalise_with_map,
)
from annotations.models import Annotation, LineageEvent
from policies.bulk import copy_models
from policies.models import Section, Snapshot
from policies.reading.reader import READER_VERSION

__all__ = [
    "FollowResult",
    "Match",
    "Merge",
    "context_around",
    "follow",
    "follow_into_new_captures",
    "normalise",
    "refresh_events",
]

CONTEXT = 32


@dataclass(frozen=True, slots=True)
class Match:
    section: Section
    start: int
    end: int
    exact: bool
    similarity: float


@dataclass(frozen=True)
class Merge:
    """A copy stored as merged: `origin_id`'s copy on capture `snapshot_id` met the same tag
    (same category and annotator) on the same span, and that tag (`into_id`: an original tag, or
    the origin of a copy) is the one shown."""

    origin_id: int
    snapshot_id: int
    into_id: int


@dataclass
class FollowResult:
    """What `follow` did: copies made by kind, (tag, capture) pairs where the clause is gone,
    and every copy merged into the same tag on the same span."""

    carried: int = 0
    proposed: int = 0
    removed: int = 0
    merged: list[Merge] = field(default_factory=list)

    @property
    def created(self) -> int:
        """Rows written: carried, proposed and merged copies."""
        return self.carried + self.proposed + len(self.merged)


def context_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The prefix and suffix a TextQuoteSelector stores with a quote."""
    return text[max(0, start - CONTEXT) : start], text[end : end + CONTEXT]


def _sections_by_text(text_ids: set[int]) -> dict[int, list[Section]]:
    """Sections of the texts in order, with their readable text (derived at import) and the
    reader's stored marking where it exists."""
    by_text: dict[int, list[Section]] = defaultdict(list)
    for section in (
        Section.objects.filter(text_id__in=text_ids)
        .annotate(reader_version=F("text__render_version"))
        .only("pk", "text_id", "position", "heading", "plain", "html")
        .order_by("text_id", "position")
    ):
        by_text[section.text_id].append(section)
    return by_text


_CLAUSE_SPAN = re.compile(r'data-start="(\d+)" data-end="(\d+)"')


def _alignment_input(section: Section) -> SectionText:
    """A section for `align_clauses`, its clauses read from the reader's stored marking when
    that is current (cutting sentences again is the slow part of lineage)."""

    def clauses() -> list[tuple[int, int]] | None:
        if section.reader_version != READER_VERSION or not section.html:
            return None
        return list(dict.fromkeys((int(a), int(b)) for a, b in _CLAUSE_SPAN.findall(section.html)))

    return SectionText(section.heading, section.plain, clauses)


# Above this many origins, queries select them by company rather than by a long list of ids.
_ID_LIST_LIMIT = 200


def _origins_q(origins: list[Annotation], field: str = "origin") -> Q:
    """Rows belonging to `origins`, as a filter that stays short for a thousand of them."""
    if len(origins) <= _ID_LIST_LIMIT:
        return Q(**{f"{field}_id__in": [o.pk for o in origins]})
    return Q(**{f"{field}__snapshot__company_id__in": {o.snapshot.company_id for o in origins}})


class _Lineage:
    """Where each origin's clause went in each other text, one clause alignment per text pair."""

    def __init__(self, origins: list[Annotation], sections: dict[int, list[Section]]) -> None:
        self.sections = sections
        self.captures = {
            text_id: Capture([_alignment_input(s) for s in sections_of])
            for text_id, sections_of in sections.items()
        }
        self.alignments: dict[tuple[int, int], Alignment] = {}
        self.index = {
            s.pk: n for sections_of in sections.values() for n, s in enumerate(sections_of)
        }
        self.wanted: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for o in origins:
            self.wanted[o.snapshot.text_id].append((self.index[o.section_id], o.start, o.end))

    def _alignment(self, old_text: int, new_text: int) -> Alignment:
        key = (old_text, new_text)
        if key not in self.alignments:
            self.alignments[key] = align_clauses(
                self.captures[old_text], self.captures[new_text], self.wanted[old_text]
            )
        return self.alignments[key]

    def match(self, origin: Annotation, new_text: int) -> Match | None:
        """Where `origin`'s clause is in text `new_text`, or None where it is gone."""
        alignment = self._alignment(origin.snapshot.text_id, new_text)
        at = self.index[origin.section_id]
        covered = alignment.old_clauses(at, origin.start, origin.end)
        paired = [
            alignment.pairs[c.section, c.start]
            for c in covered
            if (c.section, c.start) in alignment.pairs
        ]
        if not paired:
            return None
        old_text = self.sections[origin.snapshot.text_id][at].plain
        first, last = paired[0].new, paired[-1].new
        if last.section != first.section or last.end < first.start:
            last = first
        section = self.sections[new_text][first.section]
        if (
            len(covered) == 1
            and len(paired) == 1
            and paired[0].exact
            and origin.quote == old_text[covered[0].start : covered[0].end]
        ):
            return Match(section, first.start, first.end, True, 100.0)  # the usual case
        quote = normalise(origin.quote)
        whole = quote == normalise(old_text[covered[0].start : covered[-1].end])
        if whole and len(paired) == 1 and paired[0].exact and len(covered) == 1:
            return Match(section, first.start, first.end, True, 100.0)
        same = (
            len(paired) == len(covered)
            and all(p.exact for p in paired)
            and normalise(section.plain[first.start : last.end])
            == normalise(old_text[covered[0].start : covered[-1].end])
        )
        if same:
            # The same clauses: the tag's words at the same place among them.
            near = len(normalise(old_text[covered[0].start : origin.start] + "x")) - 1
            found = _locate(section.plain, first.start, last.end, quote, near)
            if found is not None:
                return Match(section, *found, True, 100.0)
        score = min(p.score for p in paired)
        if not whole:
            # Part of a clause: the same words inside its successor, if they are still there.
            found = _locate(section.plain, first.start, last.end, quote, 0)
            if found is not None:
                return Match(section, *found, False, score)
        return Match(section, first.start, last.end, False, score)


def _locate(text: str, start: int, end: int, wanted: str, near: int) -> tuple[int, int] | None:
    """Offsets of the occurrence of `wanted` (normalised) in text[start:end] nearest to `near`
    (a normalised offset), or None."""
    norm, index = normalise_with_map(text[start:end])
    hits, at = [], norm.find(wanted)
    while at >= 0 and wanted:
        hits.append(at)
        at = norm.find(wanted, at + 1)
    if not hits:
        return None
    at = min(hits, key=lambda h: abs(h - near))
    return start + index[at], start + index[at + len(wanted) - 1] + 1


def follow(origins: list[Annotation]) -> FollowResult:
    """Create carried and proposed copies of original tags on their company's other captures.

    Lineage events are recomputed for the origins. Nothing is dropped: a copy that meets the
    same tag on its span is stored as merged and listed in the result.
    """
    result = FollowResult()
    if not origins:
        return result
    targets = list(
        Snapshot.objects.filter(company_id__in={o.snapshot.company_id for o in origins}).only(
            "pk", "company_id", "text_id", "captured_at"
        )
    )
    target_ids = [t.pk for t in targets]
    existing = set(
        Annotation.objects.filter(_origins_q(origins), snapshot_id__in=target_ids).values_list(
            "origin_id", "snapshot_id"
        )
    )
    copies = _copies(origins, targets, existing, result)
    occupied = (
        Annotation.objects.shown()
        .filter(snapshot_id__in=target_ids)
        .values_list(*_SPAN, "pk", "origin_id")
    )
    _merge_same_tags(copies, {tuple(span): origin or pk for *span, pk, origin in occupied}, result)
    with transaction.atomic():
        Annotation.objects.bulk_create([c.annotation() for c in copies], batch_size=1000)
        refresh_events(origins)
    return result


def _copies(
    origins: list[Annotation] | list[_Origin],
    targets: list[Snapshot],
    existing: set[tuple[int, int]],
    result: FollowResult,
) -> list[_Copy]:
    """The copies of `origins` on the `targets` of their company that `existing` (pairs of
    origin and capture) does not hold yet; the clauses found gone are counted in `result`."""
    sections = _sections_by_text(
        {t.text_id for t in targets} | {o.snapshot.text_id for o in origins}
    )
    lineage = _Lineage(origins, sections)
    matches: dict[tuple[int, int], Match | None] = {}
    copies = []
    by_company = defaultdict(list)
    for target in targets:
        by_company[target.company_id].append((target.pk, target))
    for origin in origins:
        for target_id, target in by_company[origin.snapshot.company_id]:
            if target_id == origin.snapshot_id or (origin.pk, target_id) in existing:
                continue
            key = (origin.pk, target.text_id)
            if key not in matches:
                if target.text_id == origin.snapshot.text_id:  # identical capture: same place
                    section = sections[target.text_id][lineage.index[origin.section_id]]
                    matches[key] = Match(section, origin.start, origin.end, True, 100.0)
                else:
                    matches[key] = lineage.match(origin, target.text_id)
            match = matches[key]
            if match is None:
                result.removed += 1
                continue
            copies.append(_copy(origin, target_id, match))
    return copies


# Where a tag is shown, and whose it is: two copies that agree on all of it are the same tag.
_SPAN = ("snapshot_id", "section_id", "start", "end", "category_id", "annotator_id")


def _merge_same_tags(copies: list[_Copy], occupied: dict[tuple, int], result: FollowResult):
    """Mark copies that land on a span holding the same tag (category and annotator) as merged,
    and count the kinds of the others into `result`. `occupied`: the spans already shown on
    the targets, each with the tag shown there (an original, or a copy's origin)."""
    # Where two new copies meet, the carried one (then the older tag's) is shown.
    copies.sort(key=lambda c: (c.kind != Annotation.Kind.CARRIED, c.origin_id))
    span_of = attrgetter(*_SPAN)
    for copy in copies:
        span = span_of(copy)
        if span in occupied:
            copy.status = Annotation.Status.MERGED
            result.merged.append(Merge(copy.origin_id, copy.snapshot_id, occupied[span]))
            continue
        occupied[span] = copy.origin_id
        if copy.kind == Annotation.Kind.CARRIED:
            result.carried += 1
        else:
            result.proposed += 1


@dataclass(slots=True)
class _Copy:
    """A copy about to be written: the fields `follow` sets (the rest take their defaults).
    Plain data, so a thousand copies cost no model instances on the way to COPY."""

    snapshot_id: int
    section_id: int
    start: int
    end: int
    quote: str
    prefix: str
    suffix: str
    category_id: int
    attributes: dict
    note: str
    annotator_id: int | None
    campaign_id: int | None
    layer: str
    kind: str
    status: str
    origin_id: int
    origin_quote: str
    similarity: float

    def annotation(self) -> Annotation:
        return Annotation(**{name: getattr(self, name) for name in _COPY_FIELDS})


_COPY_FIELDS = [f.name for f in fields(_Copy)]


def _copy(origin: Annotation, target_id: int, match: Match) -> _Copy:
    text = match.section.plain
    prefix, suffix = context_around(text, match.start, match.end)
    return _Copy(
        snapshot_id=target_id,
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
        similarity=match.similarity,
    )


def refresh_events(origins: list[Annotation]) -> None:
    """Recompute when each origin's clause changed, disappeared or appeared along the timeline."""
    company_ids = {o.snapshot.company_id for o in origins}
    timeline: dict[int, list[int]] = defaultdict(list)
    for pk, company_id in (
        Snapshot.objects.filter(company_id__in=company_ids)
        .order_by("captured_at", "pk")
        .values_list("pk", "company_id")
    ):
        timeline[company_id].append(pk)
    origin_ids = {o.pk for o in origins}
    state = {}
    for origin_id, snapshot_id, kind in Annotation.objects.filter(_origins_q(origins)).values_list(
        "origin_id", "snapshot_id", "kind"
    ):
        if origin_id in origin_ids:
            state[origin_id, snapshot_id] = _state(kind)
    pairs = {
        company_id: list(zip(snapshots, snapshots[1:], strict=False))
        for company_id, snapshots in timeline.items()
    }
    LineageEvent.objects.filter(_origins_q(origins)).delete()
    LineageEvent.objects.bulk_create(_events(origins, pairs, state), batch_size=1000)


def _state(kind: str) -> str:
    """An origin's clause on a capture that holds a copy of `kind`."""
    return "exact" if kind == Annotation.Kind.CARRIED else "changed"


def _events(origins, pairs: dict[int, list[tuple[int, int]]], state: dict) -> list[LineageEvent]:
    """The events of each origin between the pairs of captures of its company: `state` says
    where its clause is ("exact" or "changed", by origin and capture), absent elsewhere."""
    events = []
    for origin in origins:
        company_id = origin.snapshot.company_id
        for before, after in pairs[company_id]:
            if origin.snapshot_id == before:
                was = "exact"
            else:
                was = state.get((origin.pk, before), "absent")
            if origin.snapshot_id == after:
                now = "exact"
            else:
                now = state.get((origin.pk, after), "absent")
            if was == now:
                continue
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
    return events


def _refresh_events_around(
    origins: list[_Origin],
    timeline: dict[int, list[int]],
    new: set[int],
    copies: list[_Copy],
) -> None:
    """Lineage events around freshly imported captures (`new`, in the companies' `timeline`),
    which hold no tags but `copies`, just made: only the transitions into and out of them
    change, and an event between two captures that a new one now separates goes."""
    pairs: dict[int, list[tuple[int, int]]] = {}
    separated = []
    for company_id, snapshots in timeline.items():
        adjacent = list(zip(snapshots, snapshots[1:], strict=False))
        pairs[company_id] = [(a, b) for a, b in adjacent if a in new or b in new]
        older = [pk for pk in snapshots if pk not in new]
        adjacent_now = set(adjacent)
        separated.extend(
            (a, b) for a, b in zip(older, older[1:], strict=False) if (a, b) not in adjacent_now
        )
    state = {(c.origin_id, c.snapshot_id): _state(c.kind) for c in copies}
    neighbours = {pk for adjacent in pairs.values() for pair in adjacent for pk in pair} - new
    if neighbours:
        # The neighbours' copies, read by capture: the company's whole history is not read.
        origin_ids = {o.pk for o in origins}
        for origin_id, snapshot_id, kind in Annotation.objects.filter(
            snapshot_id__in=neighbours, origin_id__isnull=False
        ).values_list("origin_id", "snapshot_id", "kind"):
            if origin_id in origin_ids:
                state[origin_id, snapshot_id] = _state(kind)
    if separated:
        between = Q()
        for before, after in separated:
            between |= Q(before_id=before, after_id=after)
        LineageEvent.objects.filter(between, _origins_q(origins)).delete()
    events = _events(origins, pairs, state)
    if events and connection.vendor == "postgresql":
        copy_models(LineageEvent, events)
    else:
        LineageEvent.objects.bulk_create(events, batch_size=1000)


def _transition(was: str, now: str) -> str | None:
    if was != "absent" and now == "absent":
        return LineageEvent.Kind.REMOVED
    if was == "absent" and now != "absent":
        return LineageEvent.Kind.APPEARED
    if was == "exact" and now == "changed":
        return LineageEvent.Kind.CHANGED
    return None


@dataclass(frozen=True, slots=True)
class _Place:
    """An origin's capture, as far as lineage looks at it."""

    company_id: int
    text_id: int


@dataclass(frozen=True, slots=True)
class _Origin:
    """An original tag as `follow` reads it (the fields it uses, under the model's names):
    read as plain rows, a company's thousand tags cost no model instances."""

    pk: int
    snapshot_id: int
    section_id: int
    start: int
    end: int
    quote: str
    category_id: int
    attributes: dict
    note: str
    annotator_id: int | None
    campaign_id: int | None
    layer: str
    snapshot: _Place


_ORIGIN_FIELDS = [f.name for f in fields(_Origin) if f.name != "snapshot"]


def follow_into_new_captures(snapshot_ids: list[int]) -> FollowResult:
    """Give freshly imported captures (no tags yet) the tags of their companies (called by the
    importer, inside its transaction). A fixed number of queries, whatever the history's length
    and the number of tags: the captures, the original tags, the sections of their texts, the
    copies written, the neighbouring captures' copies, and the events that change."""
    result = FollowResult()
    timeline: dict[int, list[int]] = defaultdict(list)
    targets = []
    new = set(snapshot_ids)
    for snapshot in (
        Snapshot.objects.filter(
            company_id__in=Snapshot.objects.filter(pk__in=snapshot_ids).values("company_id")
        )
        .only("pk", "company_id", "text_id", "captured_at")
        .order_by("captured_at", "pk")
    ):
        timeline[snapshot.company_id].append(snapshot.pk)
        if snapshot.pk in new:
            targets.append(snapshot)
    rows = Annotation.objects.filter(
        kind=Annotation.Kind.ORIGINAL, snapshot__company_id__in=list(timeline)
    ).values_list(*_ORIGIN_FIELDS, "snapshot__company_id", "snapshot__text_id")
    origins = [_Origin(*row[:-2], snapshot=_Place(*row[-2:])) for row in rows]
    if not origins:
        return result
    copies = _copies(origins, targets, set(), result)
    _merge_same_tags(copies, {}, result)
    # Inside the importer's transaction: no savepoint of its own (any refusal fails the batch).
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            # Fresh captures have no tags, so nothing can conflict: COPY writes a thousand
            # copies in a quarter of the time bulk_create takes.
            copy_models(Annotation, copies, _COPY_FIELDS)
        else:
            Annotation.objects.bulk_create([c.annotation() for c in copies], batch_size=1000)
        _refresh_events_around(origins, timeline, new, copies)
    return result
