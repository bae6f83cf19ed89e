"""Atom feeds of policy changes: one company's (`/companies/<slug>/feed.atom`) and every
company's (`/feeds/changes.atom?company=a,b`), newest first.

An entry is a capture whose wording changed since the company's previous capture (the one
meaning of "unchanged", `Snapshot.unchanged`): words added and removed, the sections that
changed, tags (visible to anonymous readers) on the changed clauses of the older capture, and a
link to the comparison. Django's syndication framework writes the Atom.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from policies.comparing.comparison import compare_pairs, display_rows
from policies.comparing.diffing import SectionDiff
from policies.extensions import overlay
from policies.filters import CaptureFilters, FilterError
from policies.models import Company, Snapshot

ENTRIES = 50


@dataclass(frozen=True)
class Change:
    """A capture whose wording changed, and how."""

    snapshot: Snapshot
    diff: SectionDiff
    sections: list[str]  # headings of the sections added, removed, changed or moved
    tags: list[str]  # "Category (changed)" for tags on the older capture's changed clauses

    @property
    def previous_timestamp(self) -> str:
        return f"{self.snapshot.previous_captured_at:%Y%m%d%H%M%S}"


def recent_changes(captures, limit: int = ENTRIES) -> list[Change]:
    """The latest `limit` captures of `captures` whose wording changed since their company's
    previous capture, newest first: one query for the captures, one for the stored comparisons
    (more for any not compared yet), one per entry for its tags."""
    snapshots = list(
        captures.with_previous()
        .filter(unchanged=False, previous_text_id__isnull=False)
        .select_related("company", "text")
        .defer("text__body")
        .order_by("-captured_at", "-pk")[:limit]
    )
    diffs = compare_pairs({(s.previous_text_id, s.text_id) for s in snapshots})
    return [_change(s, diffs[s.previous_text_id, s.text_id]) for s in snapshots]


def _change(snapshot: Snapshot, diff: SectionDiff) -> Change:
    rows = display_rows(diff)
    changed = [item for item in rows if item.change]
    headings = [item.row.new_heading or item.row.old_heading or "(untitled)" for item in changed]
    older = Snapshot(pk=snapshot.previous_id)
    notes = overlay().changed_row_notes(older, rows, AnonymousUser())
    tags = sorted(
        {
            f"{note.tag.category.name} ({'kept' if note.survives else 'changed'})"
            for row_notes in notes
            for note in row_notes
        }
    )
    return Change(snapshot, diff, headings, tags)


class _ChangesFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return super().__call__(request, *args, **kwargs)
        except FilterError as exc:
            return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain; charset=utf-8")

    def item_title(self, item: Change) -> str:
        return (
            f"{item.snapshot.company.name}: +{item.diff.words_added} / "
            f"−{item.diff.words_removed} words on {item.snapshot.captured_at:%Y-%m-%d}"
        )

    def item_description(self, item: Change) -> str:
        parts = [
            f"{item.diff.words_added} words added, {item.diff.words_removed} removed.",
            f"Sections changed ({len(item.sections)}): {'; '.join(item.sections) or 'none'}.",
        ]
        if item.tags:
            parts.append(f"Tags on changed clauses: {', '.join(item.tags)}.")
        return " ".join(parts)

    def item_link(self, item: Change) -> str:
        snapshot = item.snapshot
        args = [snapshot.company.slug, item.previous_timestamp, snapshot.timestamp]
        return reverse("compare", args=args)

    def item_pubdate(self, item: Change):
        return item.snapshot.captured_at

    def item_updateddate(self, item: Change):
        return item.snapshot.captured_at


class CompanyChangesFeed(_ChangesFeed):
    """One company's changes."""

    def get_object(self, request: HttpRequest, slug: str) -> Company:
        return get_object_or_404(Company, slug=slug)

    def title(self, company: Company) -> str:
        return f"{company.name}: privacy policy changes (Palimpsest)"

    def link(self, company: Company) -> str:
        return company.get_absolute_url()

    def subtitle(self, company: Company) -> str:
        return f"Each archived capture of {company.name}'s policy whose wording changed."

    def items(self, company: Company) -> list[Change]:
        return recent_changes(Snapshot.objects.filter(company=company))


class AllChangesFeed(_ChangesFeed):
    """Every company's changes, or those of `?company=a,b` (and `from`, `to`)."""

    title = "Privacy policy changes (Palimpsest)"
    subtitle = "Archived captures whose wording changed, newest first."

    def get_object(self, request: HttpRequest) -> CaptureFilters:
        return CaptureFilters.from_params(request.GET)

    def link(self) -> str:
        return reverse("company_list")

    def items(self, filters: CaptureFilters) -> list[Change]:
        return recent_changes(Snapshot.objects.filter(filters.q()))
