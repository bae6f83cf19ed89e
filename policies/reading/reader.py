"""The reader's view of a text: sections as safe HTML with clauses marked, once per text."""

from __future__ import annotations

from django.db import transaction

from policies.models import PolicyText, Section
from policies.reading.clauses import mark_clauses
from policies.reading.rendering import RENDER_VERSION, render_markdown

# Bump CLAUSES_VERSION when clause marking changes; both parts invalidate stored HTML.
CLAUSES_VERSION = 1
READER_VERSION = RENDER_VERSION * 16 + CLAUSES_VERSION


def rendered_sections(text: PolicyText) -> list[Section]:
    """The text's sections with `html` rendered (once per text; stored and reused)."""
    sections = list(text.sections.order_by("position"))
    if text.render_version != READER_VERSION:
        for section in sections:
            marked = mark_clauses(render_markdown(section.body))
            section.html, section.plain = marked.html, marked.text
        with transaction.atomic():
            Section.objects.bulk_update(sections, ["html", "plain"], batch_size=500)
            PolicyText.objects.filter(pk=text.pk).update(render_version=READER_VERSION)
        text.render_version = READER_VERSION
    return sections
