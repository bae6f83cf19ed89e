"""Template context from the annotations app: the review queue's size for the header."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from annotations.models import Annotation
from policies.permissions import can_review


def review_queue(request: HttpRequest) -> dict[str, object]:
    """`review_waiting`: proposed tags waiting for review, counted only for reviewers and only
    when a template shows it."""
    user = request.user
    return {
        "review_waiting": SimpleLazyObject(
            lambda: Annotation.objects.pending_review().count() if can_review(user) else 0
        )
    }
