"""The review queue: proposed tags whose clause changed, with old and new wording compared."""

from __future__ import annotations

from dataclasses import dataclass

from annotations.models import Annotation
from policies.comparing.diffing import diff_words


def pending_reviews(company: str = "", category: str = ""):
    """Proposed tags awaiting review, oldest capture first, filtered by company/category slug."""
    tags = Annotation.objects.pending_review().select_related(
        "category", "snapshot__company", "section", "origin__snapshot", "origin__annotator"
    )
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
