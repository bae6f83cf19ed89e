"""Where another app joins the work of `policies`, without `policies` importing it.

`annotations` builds on `policies`; `policies` never imports `annotations`. Where policies' work
must let annotation work happen, it calls one of these named extension points, explicitly, at
the step it belongs to (not Django signals, which hide the order of work):

- `captures_imported(snapshot_ids)`: the importer, inside the transaction that wrote the new
  captures (tags follow their clauses into them);
- `texts_changed(section_ids)`: `reader.refresh_texts`, after sections' readable text was
  derived again (tags pointing into it are re-anchored);
- `overlay()`: what the reading, comparing, search and trends pages show besides the policy
  itself (tags, the practice timeline, the tagging controls, the tags' share per half-year),
  and what else a signed-in user's stored pages depend on (`viewer_state`,
  `viewer_sees_every_company`).

Another app fills them in its `AppConfig.ready()`: `register_overlay(...)`,
`on_captures_imported(...)`, `on_texts_changed(...)`. With nothing registered, the pages show
the policies alone and imports do nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from policies.models import Company, Section, Snapshot


@dataclass(frozen=True)
class SectionView:
    """One section as the reader shows it: its HTML (with any overlay marks), the notes listed
    under it (for example, its tags) and what the overlay offers to add."""

    section: Section
    html: str
    tags: list = field(default_factory=list)
    # What the overlay offers to add (for example, suggested categories for its clauses).
    suggestions: list = field(default_factory=list)


class Overlay:
    """What the pages show besides the policy text. This base shows nothing more; the
    annotations app registers a subclass."""

    def reader_context(
        self, request: HttpRequest, company: Company, snapshot: Snapshot, sections: list[Section]
    ) -> dict[str, Any]:
        """Template context for a capture page: `items`, its sections as the reader shows them
        to the request's user (`SectionView`s), and anything else the overlay shows (tagging
        controls and links)."""
        return {"items": [SectionView(section, section.html) for section in sections]}

    def history_context(self, company: Company, snapshots: list[Snapshot], user) -> dict[str, Any]:
        """Extra template context for a company's history page."""
        return {}

    def changed_row_notes(self, snapshot: Snapshot, rows: list, user) -> list[list]:
        """For each compare row, notes on the older capture's section (tags on changed text)."""
        return [[] for _ in rows]

    def search_categories(self) -> list[tuple[str, str]]:
        """(slug, name) of the categories search can filter on."""
        return []

    def viewer_state(self, user) -> tuple | None:
        """What a signed-in user's pages show besides their companies' data that may change
        without any company's pages changing (e.g. the review queue's size in the header): a
        stored page for `user` is kept only while this stays equal (policies.pagecache).
        None: never store this user's pages (they show what no version follows). Computed
        from the user and their roles alone: a process keeps it per session until a session,
        user or group changes (policies.pagecache)."""
        return ()

    def viewer_sees_every_company(self, user) -> bool:
        """Whether `user`'s pages show what a change in any company may change (e.g.
        suggestions drawn from every company's tags): their stored pages are then keyed by the
        site version too, which every company's change bumps (policies.pagecache)."""
        return False

    def tagged_captures(self, slug: str) -> list[tuple[int, int]]:
        """(section id, capture id) of every tag of the category that anyone may see."""
        return []

    def trend_tags(self, policies) -> TrendTags:
        """For the trends: among `policies` (a SeasonPolicy queryset), per half-year, how many
        carry a tag anyone may see, and how many one of each category (gold where adjudicated)."""
        return TrendTags()


@dataclass(frozen=True)
class TrendTags:
    """What the trends show of tags: the categories (slug, name) in taxonomy order; per
    half-year the policies carrying any tag; per (half-year, category slug) those carrying
    one of the category."""

    categories: list[tuple[str, str]] = field(default_factory=list)
    tagged: dict[str, int] = field(default_factory=dict)
    by_category: dict[tuple[str, str], int] = field(default_factory=dict)


_overlay: list[Overlay] = [Overlay()]
_captures_imported: list[Callable[[list[int]], object]] = []
_texts_changed: list[Callable[[list[int]], object]] = []


def register_overlay(overlay: Overlay) -> None:
    """Use `overlay` on every page (the last one registered wins)."""
    _overlay[0] = overlay


def overlay() -> Overlay:
    """The registered overlay."""
    return _overlay[0]


def on_captures_imported(listener: Callable[[list[int]], object]) -> None:
    """Call `listener(snapshot_ids)` after every import batch that created captures."""
    if listener not in _captures_imported:
        _captures_imported.append(listener)


def on_texts_changed(listener: Callable[[list[int]], object]) -> None:
    """Call `listener(section_ids)` after sections' readable text was derived again; it
    returns what it could not carry over (reported by refresh_texts)."""
    if listener not in _texts_changed:
        _texts_changed.append(listener)


def captures_imported(snapshot_ids: list[int]) -> None:
    """Announce new captures (called by the importer inside its transaction)."""
    for listener in _captures_imported:
        listener(snapshot_ids)


def texts_changed(section_ids: list[int]) -> list:
    """Announce re-derived section texts; returns the listeners' reports, concatenated."""
    problems: list = []
    for listener in _texts_changed:
        problems.extend(listener(section_ids) or [])
    return problems
