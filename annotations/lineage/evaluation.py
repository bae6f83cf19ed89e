"""Lineage measured against hand-checked decisions (`annotations/tests/data/lineage_eval.yaml`).

The file lists, per company, clauses to tag on one capture and the right outcome at each later
capture, decided by reading the two texts: carried (to the n-th occurrence of the same clause),
proposed (to which clause) or removed, with the reasoning. Quotes identify clauses, not offsets:
a quote is a whole clause as the reader cuts it, or its beginning followed by "...". `words`
tags only those words inside the clause.

`evaluate` tags every clause through `create_tag` (so lineage runs as in real use) on captures
already imported, and compares each copy with the expected decision. It also checks every
decision lineage made for the tags: a match without a row is a dropped copy, and a carried copy
of a whole clause that is not a whole clause of its capture is a fragment carried.
Used by bench/lineage_eval.py and by the tests.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from annotations.lineage.align import normalise, section_clauses
from annotations.lineage.follow import _Lineage, _sections_by_text
from annotations.models import Annotation, Category
from annotations.tagging.tags import TagRequest, create_tag
from policies.models import Section, Snapshot
from policies.reading.reader import rendered_sections

CARRIED, PROPOSED, REMOVED = "carried", "proposed", "removed"


@dataclass(frozen=True)
class Expectation:
    kind: str
    target: str = ""  # proposed: the new clause
    nth: int = 1  # which occurrence of the clause (carried) or of the target (proposed)


@dataclass
class EvalTag:
    company: str
    on: str  # capture date, YYYY-MM-DD
    quote: str
    expect: dict[str, Expectation]
    why: str
    nth: int = 1
    words: str = ""
    category: str = "other"


@dataclass
class Cases:
    tags: list[EvalTag]

    @property
    def companies(self) -> set[str]:
        return {t.company for t in self.tags}


def _expectation(value) -> Expectation:
    if isinstance(value, str):
        if value not in (CARRIED, REMOVED):
            raise ValueError(f"outcome {value!r}: carried, removed or {{proposed: clause}}")
        return Expectation(value)
    ((kind, detail),) = value.items()
    if kind == CARRIED:
        return Expectation(CARRIED, nth=int(detail))
    if kind == PROPOSED:
        if isinstance(detail, dict):
            return Expectation(PROPOSED, detail["clause"], int(detail.get("nth", 1)))
        return Expectation(PROPOSED, str(detail))
    raise ValueError(f"outcome {kind!r}: carried, removed or proposed")


def load_cases(path: Path | str) -> Cases:
    """The tagged clauses of the evaluation file, each with its expected outcomes."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    tags = []
    for company, entries in data["histories"].items():
        for entry in entries:
            tags.append(
                EvalTag(
                    company=company,
                    on=str(entry["tagged"]),
                    quote=entry["quote"],
                    nth=int(entry.get("nth", 1)),
                    words=entry.get("words", ""),
                    category=entry.get("category", "other"),
                    expect={str(d): _expectation(v) for d, v in entry["expect"].items()},
                    why=entry["why"],
                )
            )
    return Cases(tags)


# The evaluation looks up the same sections again and again; cutting sentences is slow.
_clauses = functools.lru_cache(maxsize=256)(section_clauses)


@dataclass(frozen=True)
class _Found:
    section: Section
    start: int
    end: int


def _matches(quote: str, clause: str) -> bool:
    if quote.endswith("..."):
        return clause.startswith(normalise(quote[:-3]))
    return clause == normalise(quote)


def find_clause(sections: list[Section], quote: str, nth: int = 1) -> _Found:
    """The `nth` clause (document order) that `quote` identifies; an error if there is none."""
    found = [
        _Found(section, start, end)
        for section in sections
        for start, end in _clauses(section.plain)
        if _matches(quote, normalise(section.plain[start:end]))
    ]
    if len(found) < nth:
        raise LookupError(f"{quote!r}: {len(found)} clause(s), wanted number {nth}")
    return found[nth - 1]


@dataclass
class Decision:
    tag: EvalTag
    date: str
    expected: Expectation
    got: str  # carried / proposed / removed
    got_quote: str
    similarity: float | None
    right: bool

    @property
    def expected_kind(self) -> str:
        return self.expected.kind

    def __str__(self) -> str:
        what = self.tag.words or self.tag.quote
        want = self.expected.kind
        if self.expected.kind == PROPOSED:
            want += f" to {self.expected.target[:70]!r}"
        got = self.got if self.got == REMOVED else f"{self.got} to {self.got_quote[:70]!r}"
        score = "" if self.similarity is None else f" (similarity {self.similarity:.0f})"
        return (
            f"{self.tag.company} {self.tag.on} -> {self.date}: {what[:70]!r}: "
            f"expected {want}; got {got}{score}"
        )


@dataclass
class Report:
    decisions: list[Decision] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)
    merged: int = 0

    @property
    def total(self) -> int:
        return len(self.decisions)

    @property
    def right(self) -> int:
        return sum(d.right for d in self.decisions)


def evaluate(cases: Cases, user) -> Report:
    """Tag every clause of `cases` as `user` (captures must be imported) and compare each copy
    with the decision written down."""
    snapshots = {
        (s.company.slug, f"{s.captured_at:%Y-%m-%d}"): s
        for s in Snapshot.objects.filter(company__slug__in=cases.companies).select_related(
            "company", "text"
        )
    }
    sections = {s.text_id: rendered_sections(s.text) for s in snapshots.values()}
    categories = {c.slug: c for c in Category.objects.all()}
    tagged: list[tuple[EvalTag, Annotation]] = []
    for case in cases.tags:
        snapshot = snapshots[case.company, case.on]
        clause = find_clause(sections[snapshot.text_id], case.quote, case.nth)
        start, end = clause.start, clause.end
        if case.words:
            at = clause.section.plain.find(case.words, start, end)
            if at < 0:
                raise LookupError(f"{case.words!r} is not in {case.quote!r}")
            start, end = at, at + len(case.words)
        request = TagRequest(
            snapshot,
            clause.section,
            start,
            end,
            clause.section.plain[start:end],
            categories[case.category],
            {},
        )
        tagged.append((case, create_tag(request, user)[0]))

    report = Report()
    copies = {
        (c.origin_id, c.snapshot_id): c
        for c in Annotation.objects.filter(origin__in=[t for _, t in tagged])
    }
    report.merged = sum(c.status == Annotation.Status.MERGED for c in copies.values())
    for case, tag in tagged:
        for date, expected in case.expect.items():
            snapshot = snapshots[case.company, date]
            copy = copies.get((tag.pk, snapshot.pk))
            report.decisions.append(_decide(case, tag, date, expected, copy, sections))
    _check_properties(tagged, snapshots, copies, report)
    return report


def _decide(case, tag, date, expected, copy, sections) -> Decision:
    got = REMOVED if copy is None else copy.kind
    right = got == expected.kind
    if copy is not None and right:
        text_sections = sections[copy.snapshot.text_id]
        if expected.kind == CARRIED:
            target = find_clause(text_sections, _clause_text(tag, sections), expected.nth)
        else:
            target = find_clause(text_sections, expected.target, expected.nth)
        inside = target.start <= copy.start and copy.end <= target.end
        exact = (copy.start, copy.end) == (target.start, target.end)
        right = copy.section_id == target.section.pk and (inside if case.words else exact)
        if expected.kind == CARRIED:
            right = right and normalise(copy.quote) == normalise(tag.quote)
    return Decision(
        case,
        date,
        expected,
        got,
        copy.quote if copy is not None else "",
        copy.similarity if copy is not None else None,
        right,
    )


def _clause_text(tag: Annotation, sections) -> str:
    """The whole clause the tag sits in (its own text when the whole clause is tagged)."""
    section = next(s for s in sections[tag.snapshot.text_id] if s.pk == tag.section_id)
    for start, end in _clauses(section.plain):
        if start <= tag.start and tag.end <= end:
            return section.plain[start:end]
    return tag.quote


def _check_properties(tagged, snapshots, copies, report: Report) -> None:
    origins = [t for _, t in tagged]
    text_sections = _sections_by_text({s.text_id for s in snapshots.values()})
    lineage = _Lineage(origins, text_sections)
    for case, origin in tagged:
        for snapshot in snapshots.values():
            if snapshot.company_id != origin.snapshot.company_id or snapshot == origin.snapshot:
                continue
            if snapshot.text_id == origin.snapshot.text_id:
                continue
            match = lineage.match(origin, snapshot.text_id)
            copy = copies.get((origin.pk, snapshot.pk))
            if match is not None and copy is None:
                report.dropped.append(f"{case.company} {case.quote[:60]!r} on {snapshot}")
            if copy is not None and copy.kind == CARRIED and not case.words:
                spans = _clauses(copy.section.plain)
                if (copy.start, copy.end) not in spans:
                    report.fragments.append(
                        f"{case.company} {case.quote[:60]!r} carried into a longer clause "
                        f"on {snapshot}: {copy.quote[:60]!r}"
                    )
