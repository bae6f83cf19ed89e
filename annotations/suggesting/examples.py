"""What the category model learns from: the project's accepted tags, read from the database.

Labels (`labels="auto"`): on a capture where a campaign has a gold layer, its gold tags;
elsewhere the active tags anyone may see (`Annotation.objects.visible_to` an anonymous visitor:
not the annotator layers of running campaigns, which are blind until adjudicated). `"gold"`
takes gold captures only, `"active"` the active tags everywhere.

Units: every section of a labelled capture (a capture someone tagged is taken as read, so its
untagged sections and clauses are examples of no category), with the categories of the tags in
it; and its clauses (`policies.reading.clauses.section_clauses`), each with the categories of
the tags that overlap it. A text shared by several captures is one set of sections, with every
capture's labels. Groups are companies. Rejected suggestions (`SuggestionRejection`) are
explicit negatives: the rejected clause's quote, for the rejected category.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser

from annotations.models import Annotation, SuggestionRejection
from policies.models import Section, Snapshot
from policies.reading.clauses import section_clauses

if TYPE_CHECKING:
    from annotations.suggesting.classifier import Corpus

LABELS = ("auto", "gold", "active")


@dataclass
class TrainingData:
    corpus: Corpus
    gold_captures: int = 0
    active_captures: int = 0
    tags: int = 0


def accepted_tags():
    """Every tag that counts as accepted for training: shown, active, and visible to anyone."""
    return (
        Annotation.objects.visible_to(AnonymousUser())
        .shown()
        .filter(status=Annotation.Status.ACTIVE)
    )


def _chosen_tags(labels: str) -> tuple[list[tuple], set[int], set[int]]:
    """(snapshot, section, start, end, category) of the tags used, and the gold and active
    captures they come from."""
    gold = set(
        Annotation.objects.shown()
        .filter(layer=Annotation.Layer.GOLD)
        .values_list("snapshot_id", flat=True)
        .distinct()
    )
    rows = accepted_tags().values_list(
        "snapshot_id", "section_id", "start", "end", "category__slug", "layer"
    )
    chosen = []
    for snapshot_id, section_id, start, end, slug, layer in rows:
        is_gold = layer == Annotation.Layer.GOLD
        if labels == "gold" and not is_gold:
            continue
        if labels == "auto" and snapshot_id in gold and not is_gold:
            continue
        chosen.append((snapshot_id, section_id, start, end, slug))
    used = {row[0] for row in chosen}
    return chosen, used & gold if labels != "active" else set(), used - gold


def _clause_units(plain: str, spans: list[tuple[int, int, str]]):
    for a, b in section_clauses(plain):
        yield plain[a:b], {slug for start, end, slug in spans if start < b and end > a}


def training_data(labels: str = "auto") -> TrainingData:
    """The corpus to train on, with counts of where its labels came from. A fixed number of
    queries: gold captures, tags, captures, sections, rejections."""
    from annotations.suggesting.classifier import Corpus  # scikit-learn: see model.py

    if labels not in LABELS:
        raise ValueError(f"labels must be one of {', '.join(LABELS)}")
    tags, gold, _ = _chosen_tags(labels)
    captures = Snapshot.objects.filter(pk__in={t[0] for t in tags}).values_list(
        "pk", "text_id", "company__slug"
    )
    company_of_text: dict[int, str] = {}
    for _, text_id, company in sorted(captures, key=lambda c: c[0]):
        company_of_text.setdefault(text_id, company)
    spans: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for _, section_id, start, end, slug in tags:
        spans[section_id].append((start, end, slug))
    corpus = Corpus()
    sections = Section.objects.filter(text_id__in=list(company_of_text)).order_by(
        "text_id", "position"
    )
    for section in sections.only("pk", "text_id", "plain").iterator(chunk_size=2000):
        mine = spans.get(section.pk, [])
        corpus.add_section(
            section.plain,
            {slug for _, _, slug in mine},
            company_of_text[section.text_id],
            _clause_units(section.plain, mine),
        )
    corpus.negatives = list(SuggestionRejection.objects.values_list("quote", "category__slug"))
    used = {t[0] for t in tags}
    return TrainingData(corpus, len(gold), len(used - gold), len(tags))
