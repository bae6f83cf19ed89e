"""What the reader shows of tags: highlighted section HTML and the tags listed per section."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from django.urls import reverse

from annotations.lineage.follow import normalise
from annotations.models import Annotation
from annotations.tagging.highlighting import Highlight, highlight
from policies.models import Section, Snapshot


@dataclass(frozen=True)
class TagView:
    """What the reader's tag list shows of one tag, prepared once (500 tags stay cheap)."""

    pk: int
    slug: str
    name: str
    quote: str
    kind: str
    origin_date: str
    origin_url: str
    author: str
    note: str
    version: int
    # Carried and proposed tags: how similar the clause is to the origin's (0-100, words) and
    # the origin's wording, so a reader sees why the tag is here.
    similarity: int | None = None
    old_quote: str = ""


@dataclass(frozen=True)
class SectionView:
    section: Section
    html: str
    tags: list[TagView]


def _tag_view(tag: Annotation, origin_urls: dict[int, str]) -> TagView:
    origin = tag.origin
    if origin is not None and origin.snapshot_id not in origin_urls:
        origin_urls[origin.snapshot_id] = origin.snapshot.get_absolute_url()
    old_quote = (tag.origin_quote or origin.quote) if origin else ""
    return TagView(
        pk=tag.pk,
        slug=tag.category.slug,
        name=tag.category.name,
        quote=_shorten(tag.quote),
        kind=tag.kind,
        origin_date=f"{origin.snapshot.captured_at:%Y-%m-%d}" if origin else "",
        origin_url=f"{origin_urls[origin.snapshot_id]}#tag-{origin.pk}" if origin else "",
        author=tag.annotator.get_username() if tag.annotator else "a former user",
        note=tag.note,
        version=tag.version,
        similarity=round(tag.similarity) if tag.similarity is not None else None,
        old_quote=_shorten(old_quote),
    )


def _shorten(text: str) -> str:
    return text if len(text) <= 120 else text[:119] + "…"


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
    views, origin_urls = [], {}
    for section in sections:
        tags = by_section.get(section.pk, [])
        marks = [Highlight(t.pk, t.start, t.end, t.category.slug, _label(t), t.kind) for t in tags]
        listed = [_tag_view(t, origin_urls) for t in tags]
        views.append(SectionView(section, highlight(section.html, marks), listed))
    return views


@dataclass(frozen=True)
class TagOnChange:
    tag: Annotation
    survives: bool  # the tagged words are still in the newer capture's counterpart section


def tags_on_changed_rows(snapshot: Snapshot, rows) -> list[list[TagOnChange]]:
    """For each compare row, the older capture's tags on that section and whether their wording
    survives in the newer capture ("this deleted sentence was tagged Third Party Sharing")."""
    by_position: dict[int, list[Annotation]] = defaultdict(list)
    for tag in (
        Annotation.objects.shown().filter(snapshot=snapshot).select_related("category", "section")
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


def reader_links(company) -> dict[str, str]:
    """URLs the reader's tag list needs, reversed once per page rather than once per tag."""
    return {
        # annotations/urls.py: a tag's page is the create URL followed by its id.
        "tag_url_prefix": reverse("tag_create"),
        "review_url": f"{reverse('review_list')}?company={quote(company.slug)}",
    }
