"""What the reader shows of tags: highlighted section HTML and the tags listed per section."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from policies.models import Section, Snapshot

from .highlighting import Highlight, highlight
from .models import Annotation


@dataclass(frozen=True)
class SectionView:
    section: Section
    html: str
    tags: list[Annotation]


def _label(tag: Annotation) -> str:
    if tag.kind == Annotation.Kind.CARRIED:
        return f"{tag.category.name}, carried from {tag.origin.snapshot.captured_at:%Y-%m-%d}"
    if tag.kind == Annotation.Kind.PROPOSED:
        return f"{tag.category.name}, proposed (clause changed), awaiting review"
    return tag.category.name


def sections_with_tags(snapshot: Snapshot, sections: list[Section]) -> list[SectionView]:
    """Each section with its tags highlighted; one query for all the capture's tags."""
    by_section: dict[int, list[Annotation]] = defaultdict(list)
    for tag in Annotation.objects.for_reader().filter(snapshot=snapshot):
        by_section[tag.section_id].append(tag)
    views = []
    for section in sections:
        tags = by_section.get(section.pk, [])
        marks = [Highlight(t.pk, t.start, t.end, t.category.slug, _label(t), t.kind) for t in tags]
        views.append(SectionView(section, highlight(section.html, marks), tags))
    return views
