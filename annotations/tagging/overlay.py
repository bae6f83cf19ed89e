"""What the reader shows of tags: highlighted section HTML and the tags listed per section."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from annotations.campaigns.campaigns import own_work_only
from annotations.lineage.timeline import practice_timeline
from annotations.models import Annotation, Category, GoldDecision
from annotations.suggesting.suggestions import (
    ACCEPT_ALL_MINIMUM,
    Reader,
    Suggestion,
    reader_of,
    suggestions_for,
)
from annotations.tagging.highlighting import Highlight, highlight
from policies.extensions import Overlay, SectionView, TrendTags
from policies.models import Company, Section, Snapshot
from policies.permissions import can_review, can_tag
from policies.reading.text import section_body


@dataclass(frozen=True)
class TagView:
    """What the reader's tag list shows of one tag, prepared once (500 tags stay cheap)."""

    pk: int
    slug: str
    name: str
    quote: str
    kind: str
    status: str
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
class ListedTag:
    """A tag in a section's list: its view and its list item's HTML (`tag_note_html`)."""

    view: TagView
    html: str


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
        status=tag.status,
        origin_date=f"{origin.snapshot.captured_at:%Y-%m-%d}" if origin else "",
        origin_url=f"{origin_urls[origin.snapshot_id]}#tag-{origin.pk}" if origin else "",
        author=tag.annotator.get_username() if tag.annotator else "a former user",
        note=tag.note,
        version=tag.version,
        similarity=round(tag.similarity) if tag.similarity is not None else None,
        old_quote=_shorten(old_quote),
    )


def tag_note_html(tag: TagView, can_tag: bool, links: dict[str, str]) -> str:
    """One tag in a section's tag list: its category, wording and where it came from, and an
    Edit link for taggers on an original tag. Built here rather than in the template: on a
    capture with 500 tags the template's lookups cost about 40 ms."""
    if tag.kind == Annotation.Kind.CARRIED:
        how = format_html(
            'carried from <a href="{}">{}</a>, same wording', tag.origin_url, tag.origin_date
        )
    elif tag.kind == Annotation.Kind.PROPOSED:
        alike = f" ({tag.similarity}% of words alike)" if tag.similarity is not None else ""
        if tag.status == Annotation.Status.PENDING:
            review = format_html('awaiting <a href="{}">review</a>', links["review_url"])
        else:
            review = "confirmed in review"
        how = format_html(
            'proposed: the clause changed since <a href="{}">{}</a>{}, {}; '
            'it read <q class="old-wording">{}</q>',
            tag.origin_url, tag.origin_date, alike, review, tag.old_quote,
        )  # fmt: skip
    else:
        how = format_html("by {}", tag.author)
    if tag.note:
        how = format_html("{} · {}", how, tag.note)
    edit = ""
    if can_tag and tag.kind == Annotation.Kind.ORIGINAL:
        edit = format_html(
            '<a class="tag-edit-link" href="{0}{1}/" hx-get="{0}{1}/" '
            'hx-target="#editor-slot-{1}">Edit</a>'
            '<div class="tag-editor-slot" id="editor-slot-{1}"></div>',
            links["tag_url_prefix"], tag.pk,
        )  # fmt: skip
    return format_html(
        '<li id="tag-{0}" class="tag-note tag-{1}" data-annotation="{0}" data-category="{1}">'
        '<span class="tag-chip">{2}</span> <q>{3}</q> <span class="muted">{4}</span>{5}</li>',
        tag.pk, tag.slug, tag.name, tag.quote, how, edit,
    )  # fmt: skip


def _shorten(text: str) -> str:
    return text if len(text) <= 120 else text[:119] + "…"


def tag_label(tag: Annotation) -> str:
    """A tag in a few words, as a screen reader hears it before the text: "Data Retention,
    carried from 2010-01-01"."""
    if tag.kind == Annotation.Kind.CARRIED:
        return f"{tag.category.name}, carried from {tag.origin.snapshot.captured_at:%Y-%m-%d}"
    if tag.kind == Annotation.Kind.PROPOSED:
        if tag.status == Annotation.Status.PENDING:
            return f"{tag.category.name}, proposed (clause changed), awaiting review"
        return f"{tag.category.name}, proposed (clause changed), confirmed in review"
    return tag.category.name


def sections_with_tags(
    snapshot: Snapshot, sections: list[Section], user, reader: Reader, links: dict[str, str]
) -> list[SectionView]:
    """Each section with the tags `user` may see highlighted (one query for all of them) and
    listed, and what they are offered (`reader`: `reader_of(user, snapshot)`; `links`:
    `reader_links(company)`)."""
    by_section: dict[int, list[Annotation]] = defaultdict(list)
    tags = Annotation.objects.for_reader().filter(snapshot=snapshot).visible_to(user)
    tags = list(own_work_only(tags, user, snapshot.pk))
    for tag in tags:
        by_section[tag.section_id].append(tag)
    suggested = suggestions_for(snapshot, sections, user, tags, reader)
    views, origin_urls = [], {}
    for section in sections:
        tags = by_section.get(section.pk, [])
        offered = suggested.get(section.pk, [])
        marks = [
            Highlight(t.pk, t.start, t.end, t.category.slug, tag_label(t), t.kind) for t in tags
        ]
        marks += [_ghost(n, s) for n, s in enumerate(offered, start=1)]
        listed = []
        for tag in tags:
            view = _tag_view(tag, origin_urls)
            listed.append(ListedTag(view, tag_note_html(view, reader.can_tag, links)))
        views.append(SectionView(section, highlight(section.html, marks), listed, offered))
    return views


def _ghost(n: int, s: Suggestion) -> Highlight:
    """A suggestion's ghost highlight (negative ids: never a tag's)."""
    label = f"suggested: {s.category.name}, {s.provenance}"
    ghost_id = -(s.section_id * 1000 + n)
    return Highlight(ghost_id, s.start, s.end, s.category.slug, label, "suggested")


@dataclass(frozen=True)
class TagOnChange:
    tag: Annotation
    survives: bool  # the tagged words are still in the newer capture's counterpart section


def tags_on_changed_rows(snapshot: Snapshot, rows, user) -> list[list[TagOnChange]]:
    """For each compare row, the older capture's tags on that section and whether their words
    came through unchanged ("this deleted sentence was tagged Third Party Sharing").

    The diff's parts join back to the section's readable text after its heading, which is the
    text tags point into: a tag survives when no deleted part overlaps its span.
    """
    by_position: dict[int, list[Annotation]] = defaultdict(list)
    for tag in (
        Annotation.objects.shown()
        .visible_to(user)
        .filter(snapshot=snapshot)
        .select_related("category", "section")
        .defer("section__html", "section__body")
    ):
        by_position[tag.section.position].append(tag)
    result = []
    for item in rows:
        row = item.row
        tags = by_position.get(row.old_index, []) if row.old_index is not None else []
        if not tags or (row.kind == "unchanged" and not row.moved):
            result.append([])
            continue
        result.append([TagOnChange(t, _survives(t, row)) for t in tags])
    return result


def _survives(tag: Annotation, row) -> bool:
    section = tag.section
    offset = section_body(section.plain, section.heading, section.level)[0]
    if tag.start < offset:  # the heading: it survives unless the section was renamed away
        return row.new_index is not None and not row.renamed
    start, end, position = tag.start - offset, tag.end - offset, 0
    for op, text in row.old_parts:
        following = position + len(text)
        if op != "equal" and position < end and following > start:
            return False
        position = following
    return row.new_index is not None


def reader_links(company) -> dict[str, str]:
    """URLs the reader's tag list needs, reversed once per page rather than once per tag."""
    return {
        # annotations/urls.py: a tag's page is the create URL followed by its id.
        "tag_url_prefix": reverse("tag_create"),
        "review_url": f"{reverse('review_list')}?company={quote(company.slug)}",
    }


def reader_context(user, company: Company, snapshot: Snapshot, sections: list[Section]) -> dict:
    """What a capture page (or one section of it) shows `user` of tags: the sections with
    their tags and suggestions (`items`), the tagging controls and the campaign bar. The
    user's campaign work on the capture and the categories are read once for all of them."""
    reader = reader_of(user, snapshot)
    links = reader_links(company)
    return {
        "items": sections_with_tags(snapshot, sections, user, reader, links),
        "can_tag": reader.can_tag,
        "categories": reader.categories,
        "campaign_work": reader.work,
        "accept_all_minimum": ACCEPT_ALL_MINIMUM,
        **links,
    }


class TagOverlay(Overlay):
    """Tags on the reader, compare, history and search pages (registered in AppConfig.ready)."""

    def reader_context(
        self, request: HttpRequest, company: Company, snapshot: Snapshot, sections: list[Section]
    ) -> dict:
        return reader_context(request.user, company, snapshot, sections)

    def history_context(self, company: Company, snapshots: list[Snapshot], user) -> dict:
        return {"practices": practice_timeline(company, snapshots, user)}

    def changed_row_notes(self, snapshot: Snapshot, rows: list, user) -> list[list]:
        return tags_on_changed_rows(snapshot, rows, user)

    def viewer_sees_every_company(self, user) -> bool:
        # A tagger's capture page offers suggestions drawn from every company's tags, and a
        # reviewer's header counts the whole review queue.
        return can_tag(user) or can_review(user)

    def search_categories(self) -> list[tuple[str, str]]:
        return list(Category.objects.values_list("slug", "name"))

    def tagged_captures(self, slug: str) -> list[tuple[int, int]]:
        return list(
            Annotation.objects.shown()
            .visible_to(AnonymousUser())
            .filter(category__slug=slug)
            .values_list("section_id", "snapshot_id")
            .distinct()
        )

    def trend_tags(self, policies) -> TrendTags:
        gold = Annotation.objects.filter(layer=Annotation.Layer.GOLD).values("snapshot_id")
        decided = GoldDecision.objects.values("snapshot_id")
        counted = Q(layer=Annotation.Layer.GOLD) | ~(
            Q(snapshot_id__in=gold) | Q(snapshot_id__in=decided)
        )
        # One grouped statement each, in the database: 100,000 tags never reach Python.
        tags = (
            Annotation.objects.shown()
            .visible_to(AnonymousUser())
            .filter(counted, snapshot__season_policies__in=policies.values("pk"))
            .order_by()
        )
        season = "snapshot__season_policies__season"
        distinct = Count("snapshot_id", distinct=True)
        by_category = tags.values_list(season, "category__slug").annotate(n=distinct)
        tagged = tags.values_list(season).annotate(n=distinct)
        return TrendTags(
            list(Category.objects.values_list("slug", "name")),
            dict(tagged),
            {(s, slug): n for s, slug, n in by_category},
        )
