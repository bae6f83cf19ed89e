"""The reader's view of a text: sections as safe HTML with clauses marked, rendered once per
text; and bringing stored texts up to the current derivation (`refresh_texts`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import batched

from django.db import transaction
from django.db.models import Q

from policies import extensions
from policies.models import Company, PolicyText, Section, Snapshot, TextComparison
from policies.reading.clauses import mark_clauses
from policies.reading.rendering import RENDER_VERSION, render_markdown
from policies.reading.text import TEXT_VERSION, count_words, section_text, wording_hash

# Bump CLAUSES_VERSION when clause marking changes; every part invalidates stored HTML.
CLAUSES_VERSION = 1
READER_VERSION = (RENDER_VERSION * 16 + CLAUSES_VERSION) * 16 + TEXT_VERSION


def rendered_sections(text: PolicyText) -> list[Section]:
    """The text's sections with `html` rendered (once per text; stored and reused)."""
    if text.text_version != TEXT_VERSION:
        refresh_texts([text.pk])
        text.refresh_from_db(fields=["text_version", "render_version", "word_count"])
    sections = list(text.sections.order_by("position"))
    if text.render_version != READER_VERSION:
        for section in sections:
            section.html = mark_clauses(render_markdown(section.body)).html
        with transaction.atomic():
            Section.objects.bulk_update(sections, ["html"], batch_size=500)
            PolicyText.objects.filter(pk=text.pk).update(render_version=READER_VERSION)
        text.render_version = READER_VERSION
    return sections


@dataclass
class RefreshReport:
    """What `refresh_texts` did."""

    texts: int = 0
    sections_changed: int = 0
    unanchored: list = field(default_factory=list)  # what the extensions could not carry over


def refresh_texts(text_ids: list[int] | None = None, *, batch_size: int = 200) -> RefreshReport:
    """Derive the readable text, word count and wording hash again for every stored text made
    by an older `TEXT_VERSION` (or only `text_ids`), one transaction per batch.

    Where a section's text changed, tags pointing into it are re-anchored (through
    `extensions.texts_changed`), stored comparisons of the text are dropped and its HTML is
    rendered again when next read; "unchanged" flags of the companies concerned are recomputed.
    """
    stale = PolicyText.objects.exclude(text_version=TEXT_VERSION)
    if text_ids is not None:
        stale = stale.filter(pk__in=text_ids)
    report = RefreshReport()
    for batch in batched(stale.order_by("pk").values_list("pk", flat=True), batch_size):
        with transaction.atomic():
            _refresh_batch(list(batch), report)
    return report


def _refresh_batch(text_ids: list[int], report: RefreshReport) -> None:
    texts = {t.pk: t for t in PolicyText.objects.select_for_update().filter(pk__in=text_ids)}
    sections = list(Section.objects.filter(text_id__in=texts).order_by("text_id", "position"))
    changed = []
    plains: dict[int, list[str]] = {pk: [] for pk in texts}
    for section in sections:
        plain = section_text(section.body)
        if plain != section.plain:
            section.plain, section.html = plain, ""
            changed.append(section)
        plains[section.text_id].append(plain)
    for pk, text in texts.items():
        text.word_count = sum(map(count_words, plains[pk]))
        text.normalized_hash = wording_hash(plains[pk])
        text.text_version, text.render_version = TEXT_VERSION, 0
    Section.objects.bulk_update(changed, ["plain", "html"], batch_size=500)
    PolicyText.objects.bulk_update(
        texts.values(), ["word_count", "normalized_hash", "text_version", "render_version"]
    )
    TextComparison.objects.filter(Q(old_text__in=text_ids) | Q(new_text__in=text_ids)).delete()
    companies = Snapshot.objects.filter(text_id__in=text_ids).values_list("company_id", flat=True)
    company_ids = sorted(set(companies))
    Snapshot.objects.refresh_unchanged_flags(company_ids)
    if changed:
        report.unanchored.extend(extensions.texts_changed([s.pk for s in changed]))
    Company.objects.pages_changed(company_ids)
    report.texts += len(texts)
    report.sections_changed += len(changed)
