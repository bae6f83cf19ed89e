"""What a capture's reader is offered: categories suggested for its clauses, never tags until
a person accepts them.

Suggestions are looked up when a tagger opens a capture, not written ahead: a boilerplate
sentence tagged once is suggested in every capture of every company that has it, without a
row per capture. Three sources, best first:

- `wording`: a tag (gold, or an active tag anyone may see) on a clause of the same wording;
- `near`: a tag on a near-identical clause (character 4-gram Jaccard >= 0.9, candidates found
  through MinHash bands), with the score;
- `model`: the category model's prediction above its tuned threshold, with its version.

A clause already tagged with the category (tags the user can see), or where someone rejected
that category, gets no suggestion. Accepting makes a tag whose `suggestion` records the source;
rejecting records a `SuggestionRejection` (a negative example for the model).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q

from annotations.campaigns.campaigns import campaign_work
from annotations.models import (
    Annotation,
    Assignment,
    Category,
    ClauseWording,
    SuggestionRejection,
    TaggedBand,
    TaggedWording,
    public_tags,
)
from annotations.suggesting.model import current_model
from annotations.suggesting.wording import (
    NEAR_IDENTICAL,
    bands,
    is_indexed,
    sentence_spans,
    similarity,
    wording_key,
)
from annotations.tagging.tags import TaggingError, TagRequest, create_tag, pages_changed_for
from policies.models import Section, Snapshot
from policies.permissions import can_tag

if TYPE_CHECKING:  # scikit-learn is imported only when a model is loaded
    from annotations.suggesting.classifier import Predictor

SOURCES = {"wording": "same wording", "near": "near-identical wording", "model": "category model"}
_RANK = {"wording": 0, "near": 1, "model": 2}
# Shift+A on the reader accepts every suggestion on the page scoring at least this.
ACCEPT_ALL_MINIMUM = 0.9


@dataclass(frozen=True)
class Suggestion:
    section_id: int
    start: int
    end: int
    quote: str
    category: Category
    source: str  # wording / near / model
    score: float  # 1.0 for the same wording; similarity or model probability otherwise
    tag: Annotation | None = None  # the tag whose clause this one repeats
    model_version: int | None = None

    @property
    def key(self) -> str:
        return f"{self.section_id}-{self.start}-{self.end}-{self.category.slug}"

    @property
    def provenance(self) -> str:
        if self.tag is not None:
            where = f"{self.tag.snapshot.company.name}, {self.tag.snapshot.captured_at:%Y-%m-%d}"
            if self.source == "wording":
                return f"same wording tagged at {where}"
            return f"near-identical wording ({self.score:.2f}) tagged at {where}"
        return f"category model v{self.model_version}, score {self.score:.2f}"

    def record(self) -> dict:
        """What an accepted suggestion's tag keeps of it (exported in `origin`)."""
        record = {"source": self.source, "score": round(self.score, 4)}
        if self.tag is not None:
            record |= {
                "tag": str(self.tag.uuid),
                "company": self.tag.snapshot.company.slug,
                "captured": f"{self.tag.snapshot.captured_at:%Y-%m-%d}",
            }
        if self.model_version is not None:
            record["model_version"] = self.model_version
        return record


def origin_label(record: dict | None) -> str:
    """The export's words for where a tag came from when a suggestion made it."""
    if not record:
        return ""
    source = SOURCES.get(record.get("source"), record.get("source", "?"))
    if record.get("tag"):
        return (
            f"suggestion: {source} ({record.get('score')}) as tag urn:uuid:{record['tag']} at "
            f"{record.get('company')} {record.get('captured')}"
        )
    return f"suggestion: {source} v{record.get('model_version')} ({record.get('score')})"


@dataclass(frozen=True)
class Reader:
    """What a capture page reads once about its reader: whether they may tag, their work on
    the capture in a running campaign (with its campaign), and the categories (for taggers)."""

    can_tag: bool
    work: Assignment | None
    categories: list[Category]

    @property
    def offered_suggestions(self) -> bool:
        """Taggers are shown suggestions, except on a capture they annotate in a blind
        campaign that has not turned suggestions on."""
        work = self.work
        return self.can_tag and (
            work is None or not work.campaign.blind or work.campaign.suggestions
        )


def reader_of(user, snapshot: Snapshot) -> Reader:
    """The reader's facts for a capture page (two queries for a tagger, one for others)."""
    allowed = can_tag(user)
    categories = list(Category.objects.all()) if allowed else []
    return Reader(allowed, campaign_work(user, snapshot.pk), categories)


@dataclass(frozen=True)
class _Clause:
    section_id: int
    start: int
    end: int
    text: str
    key: int


@dataclass(frozen=True)
class _Found:
    """A clause that another tag's clause suggests, before that tag is read."""

    clause: _Clause
    tag_id: int
    source: str  # wording / near
    score: float


def _capture_clauses(sections: list[Section]) -> list[_Clause]:
    """The capture's clauses: from the wording index where its text is indexed, else cut now."""
    by_section = {s.pk: s for s in sections}
    rows = ClauseWording.objects.filter(section_id__in=by_section).values_list(
        "section_id", "start", "end", "wording"
    )
    clauses = [_Clause(sid, a, b, by_section[sid].plain[a:b], key) for sid, a, b, key in rows]
    indexed = {c.section_id for c in clauses}
    for section in sections:
        if section.pk in indexed:
            continue
        for a, b in sentence_spans(section.plain):
            text = section.plain[a:b]
            if is_indexed(text):
                clauses.append(_Clause(section.pk, a, b, text, wording_key(text)))
    return clauses


def _eligible(prefix: str) -> Q:
    """Tags whose clauses are suggested elsewhere: gold, and active tags anyone may see; not
    carried copies (their origin's clause is the same wording)."""
    return (
        public_tags(prefix)
        & Q(**{f"{prefix}status": Annotation.Status.ACTIVE})
        & ~Q(**{f"{prefix}kind": Annotation.Kind.CARRIED})
    )


def _by_wording(clauses: list[_Clause], settled: _Settled) -> list[_Found]:
    """Tags on clauses of the same wording (ids only: the tags are read once they are known
    to be offered; most on a tagged company's pages are settled by its own copies)."""
    by_key = defaultdict(list)
    for clause in clauses:
        by_key[clause.key].append(clause)
    rows = (
        TaggedWording.objects.filter(wording__any_of=list(by_key))
        .filter(_eligible("tag__"))
        .values_list("wording", "tag_id", "tag__category_id")
    )
    return [
        _Found(clause, tag_id, "wording", 1.0)
        for wording, tag_id, category_id in rows
        for clause in by_key[wording]
        if not settled.covers(clause.section_id, clause.start, clause.end, category_id)
    ]


def _by_near(clauses: list[_Clause], settled: _Settled) -> list[_Found]:
    """Tags on near-identical clauses: candidates share a MinHash band (exact wordings are
    `_by_wording`'s), each checked by its similarity unless the clause is settled for the
    tag's category."""
    by_band = defaultdict(list)
    for clause in clauses:
        for band in bands(clause.text):
            by_band[band].append(clause)
    rows = (
        TaggedBand.objects.filter(band__any_of=list(by_band))
        .exclude(tagged__wording__any_of=[c.key for c in clauses])
        .filter(_eligible("tagged__tag__"))
        .values_list("band", "tagged__text", "tagged__tag_id", "tagged__tag__category_id")
    )
    found, seen = [], set()
    for band, text, tag_id, category_id in rows:
        for clause in by_band[band]:
            if (clause, tag_id) in seen:
                continue
            seen.add((clause, tag_id))
            if settled.covers(clause.section_id, clause.start, clause.end, category_id):
                continue
            score = similarity(clause.text, text)
            if score >= NEAR_IDENTICAL:
                found.append(_Found(clause, tag_id, "near", score))
    return found


def _from_tags(found: list[_Found]) -> list[Suggestion]:
    """The suggestions drawn from other tags, with those tags (one query, only when some)."""
    tags = Annotation.objects.select_related("category", "snapshot__company").in_bulk(
        {f.tag_id for f in found}
    )
    return [_suggestion(f.clause, tags[f.tag_id], f.source, f.score) for f in found]


@lru_cache(maxsize=256)
def _capture_predictions(predictor: Predictor, texts: tuple[str, ...]) -> tuple[tuple, ...]:
    """The model's predictions for a capture's clauses, kept for the latest 256 captures: a
    tagger's stored page is rendered again whenever any company's tags change, and the
    clauses' predictions do not (a 2,000-word capture costs about 100 ms to predict on a busy
    machine). A newer model is another predictor, so its predictions are made afresh."""
    return tuple(tuple(found) for found in predictor.predict(list(texts)))


def _by_model(clauses: list[_Clause], categories: dict[str, Category]) -> list[Suggestion]:
    predictor = current_model()
    if predictor is None or not clauses:
        return []
    found = []
    predicted = _capture_predictions(predictor, tuple(c.text for c in clauses))
    for clause, predictions in zip(clauses, predicted, strict=True):
        for slug, score in predictions:
            if slug in categories:
                found.append(
                    Suggestion(
                        clause.section_id, clause.start, clause.end, clause.text,
                        categories[slug], "model", score, model_version=predictor.version,
                    )
                )  # fmt: skip
    return found


def _suggestion(clause: _Clause, tag: Annotation, source: str, score: float) -> Suggestion:
    return Suggestion(
        clause.section_id, clause.start, clause.end, clause.text, tag.category, source, score, tag
    )


class _Settled:
    """Spans where a suggestion is moot: tagged with the category (overlapping, tags `user`
    can see on this capture) or where someone rejected it."""

    def __init__(self, sections: list[Section], tags: list[Annotation]) -> None:
        self.rejected = set(
            SuggestionRejection.objects.filter(section__in=sections).values_list(
                "section_id", "start", "end", "category_id"
            )
        )
        self.tagged: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for tag in tags:
            self.tagged[tag.section_id, tag.category_id].append((tag.start, tag.end))

    def covers(self, section_id: int, start: int, end: int, category_id: int) -> bool:
        if (section_id, start, end, category_id) in self.rejected:
            return True
        spans = self.tagged.get((section_id, category_id), ())
        return any(a < end and b > start for a, b in spans)

    def __contains__(self, s: Suggestion) -> bool:
        return self.covers(s.section_id, s.start, s.end, s.category.pk)


def suggestions_for(
    snapshot: Snapshot,
    sections: list[Section],
    user,
    tags: list[Annotation] | None = None,
    reader: Reader | None = None,
) -> dict[int, list]:
    """The suggestions `user` is offered on these sections of the capture, per section id,
    best first; {} for people who cannot tag. `tags`: the capture's tags `user` sees, and
    `reader`: `reader_of(user, snapshot)`, if the caller has them already (the reader page
    has). Reads only: tags are indexed where they are made (`index.index_new_tags`)."""
    if not sections:
        return {}
    reader = reader or reader_of(user, snapshot)
    if not reader.offered_suggestions:
        return {}
    if tags is None:
        tags = list(Annotation.objects.shown().visible_to(user).filter(snapshot=snapshot))
    clauses = _capture_clauses(sections)
    categories = {c.slug: c for c in reader.categories}
    settled = _Settled(sections, tags)
    found = _from_tags(_by_wording(clauses, settled) + _by_near(clauses, settled))
    found += _by_model(clauses, categories)
    best: dict[tuple, Suggestion] = {}
    for s in sorted(found, key=lambda s: (_RANK[s.source], -s.score)):
        spot = (s.section_id, s.start, s.end, s.category.pk)
        if spot not in best and s not in settled:
            best[spot] = s
    by_section: dict[int, list[Suggestion]] = defaultdict(list)
    for s in sorted(best.values(), key=lambda s: (s.start, _RANK[s.source], -s.score)):
        by_section[s.section_id].append(s)
    return by_section


class SuggestionGone(TaggingError):
    """The suggestion is no longer offered (accepted, rejected or its source changed)."""


def _find(snapshot: Snapshot, section: Section, user, key: str) -> Suggestion:
    for s in suggestions_for(snapshot, [section], user).get(section.pk, []):
        if s.key == key:
            return s
    raise SuggestionGone("This suggestion is no longer offered: reload the page.")


def accept(snapshot: Snapshot, section: Section, user, key: str) -> Annotation:
    """Make the suggestion `key` a tag of `user`, its origin recording the suggestion."""
    suggestion = _find(snapshot, section, user, key)
    return _accept(snapshot, section, user, suggestion)


def _accept(snapshot: Snapshot, section: Section, user, s: Suggestion) -> Annotation:
    request = TagRequest(
        snapshot=snapshot, section=section, start=s.start, end=s.end, quote=s.quote,
        category=s.category, attributes={}, suggestion=s.record(),
    )  # fmt: skip
    return create_tag(request, user).tag


def accept_all(snapshot: Snapshot, user, minimum: float) -> list[Annotation]:
    """Accept every suggestion on the capture scoring at least `minimum`, in one transaction."""
    sections = list(snapshot.text.sections.only("pk", "text_id", "plain", "heading", "level"))
    by_section = {s.pk: s for s in sections}
    chosen = [
        s
        for found in suggestions_for(snapshot, sections, user).values()
        for s in found
        if s.score >= minimum
    ]
    with transaction.atomic():
        return [_accept(snapshot, by_section[s.section_id], user, s) for s in chosen]


def reject(snapshot: Snapshot, section: Section, user, key: str) -> SuggestionRejection:
    """Record that the suggestion `key` is wrong: not offered again on that clause."""
    s = _find(snapshot, section, user, key)
    with transaction.atomic():
        rejection, _ = SuggestionRejection.objects.get_or_create(
            section=section, start=s.start, end=s.end, category=s.category,
            defaults={"quote": s.quote, "source": s.source, "score": s.score, "rejected_by": user},
        )  # fmt: skip
        # Not offered on this clause any more, in any capture sharing the text: this company's
        # pages and, through the site version, taggers' pages of every other company.
        pages_changed_for([snapshot.pk])
    return rejection
