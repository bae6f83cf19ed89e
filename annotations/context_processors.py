"""Template context from the annotations app: the review queue's size for the header."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from annotations.models import Annotation
from policies.permissions import can_review


def review_queue(request: HttpRequest) -> dict[str, object]:
    """`review_waiting`: proposed tags waiting for review, counted only for reviewers and only
    when a template shows it."""
    # An error page for a request refused before the authentication middleware ran (a 400
    # for a bad Host header) has no user: it is shown as to an anonymous visitor.
    user = getattr(request, "user", None) or AnonymousUser()
    return {
        "review_waiting": SimpleLazyObject(
            lambda: Annotation.objects.pending_review().count() if can_review(user) else 0
        )
    }
