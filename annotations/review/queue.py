"""The review queue: proposed tags whose clause changed, with old and new wording compared."""

from __future__ import annotations

from dataclasses import dataclass

from annotations.models import Annotation
from annotations.tagging.tags import can_undo_review
from policies.comparing.diffing import diff_words

_SHOWN_WITH = ("category", "snapshot__company", "section", "origin__snapshot", "origin__annotator")


def pending_reviews(company: str = "", category: str = ""):
    """Proposed tags awaiting review, oldest capture first, filtered by company/category slug."""
    tags = Annotation.objects.pending_review().select_related(*_SHOWN_WITH)
    if company:
        tags = tags.filter(snapshot__company__slug=company)
    if category:
        tags = tags.filter(category__slug=category)
    return tags.order_by("snapshot__company__name", "snapshot__captured_at", "pk")


@dataclass(frozen=True)
class ReviewItem:
    tag: Annotation
    old_parts: list[tuple[str, str]]
    new_parts: list[tuple[str, str]]


def review_items(tags) -> list[ReviewItem]:
    """Each proposed tag with a word-level diff of the original wording and the new one."""
    items = []
    for tag in tags:
        parts = diff_words(tag.origin_quote, tag.quote)
        items.append(
            ReviewItem(
                tag,
                [(op, text) for op, text in parts if op != "insert"],
                [(op, text) for op, text in parts if op != "delete"],
            )
        )
    return items


def review_item(pk: int) -> ReviewItem:
    """One tag as the queue shows it (after an undo puts it back)."""
    return review_items([Annotation.objects.select_related(*_SHOWN_WITH).get(pk=pk)])[0]


@dataclass(frozen=True)
class ReviewDone:
    """What the queue shows in place of a tag just reviewed: what happened, and Undo while the
    reviewer may still take it back."""

    tag: Annotation
    message: str
    undoable: bool


def review_done(tag: Annotation, action: str, user) -> ReviewDone:
    """The notice for a review the user just made."""
    return ReviewDone(tag, review_outcome(tag, action), can_undo_review(tag, user))


def reviewed_notice(pk: str, action: str, user) -> ReviewDone | None:
    """The notice for `?reviewed=<pk>&did=<action>` (the page without JavaScript), if any."""
    if not pk.isdigit() or action not in _DONE:
        return None
    tag = Annotation.objects.select_related("category", "snapshot__company").filter(pk=pk).first()
    return review_done(tag, action, user) if tag else None


_DONE = {"confirm": "Confirmed", "dismiss": "Dismissed", "retag": "Re-tagged"}


def review_outcome(tag: Annotation, action: str) -> str:
    """What the reviewer is told a review did: "Confirmed: Data Retention on Acme, 2011-01-01"."""
    done = _DONE.get(action, "Reviewed")
    if action == "retag":
        done += f" as {tag.category.name}"
    else:
        done += f": {tag.category.name}"
    return f"{done} on {tag.snapshot.company.name}, {tag.snapshot.captured_at:%Y-%m-%d}."
