"""What the reader shows of tags: highlighted section HTML and the tags listed per section."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from policies.models import Section, Snapshot

from .highlighting import Highlight, highlight
from .lineage import normalise
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


@dataclass(frozen=True)
class TagOnChange:
    tag: Annotation
    survives: bool  # the tagged words are still in the newer capture's counterpart section


def tags_on_changed_rows(snapshot: Snapshot, rows) -> list[list[TagOnChange]]:
    """For each compare row, the older capture's tags on that section and whether their wording
    survives in the newer capture ("this deleted sentence was tagged Third Party Sharing")."""
    by_position: dict[int, list[Annotation]] = defaultdict(list)
    for tag in Annotation.objects.shown().filter(snapshot=snapshot).select_related(
        "category", "section"
    ):
        by_position[tag.section.position].append(tag)
    result = []
    for item in rows:
        row = item.row
        tags = by_position.get(row.old_index, []) if row.old_index is not None else []
        if not tags or (row.kind == "unchanged" and not row.moved):
            result.append([])
            continue
        new_text = normalise("".join(text for _, text in row.new_parts))
        result.append([TagOnChange(t, normalise(t.quote) in new_text) for t in tags])
    return result
