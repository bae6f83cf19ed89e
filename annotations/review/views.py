"""The review queue: proposed copies of tags, confirmed or dismissed by reviewers."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotations.models import Annotation, Category
from annotations.review.queue import (
    pending_reviews,
    review_done,
    review_item,
    review_items,
    reviewed_notice,
)
from annotations.tagging.tags import review_tag, undo_review
from annotations.tagging.views import apply_versioned
from policies.models import Company
from policies.permissions import permission_required


def _filters(data, prefix: str = "") -> dict[str, str]:
    """The queue's filters, from the page's query string or (prefixed `queue_`, as "category"
    is the re-tag choice there) a review form's hidden fields."""
    return {name: data.get(prefix + name, "") for name in ("company", "category")}


@require_GET
@permission_required("review")
def review_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    tags = pending_reviews(**filters)
    page = Paginator(tags, 25).get_page(request.GET.get("page"))
    context = {
        **filters,
        "page": page,
        "waiting": page.paginator.count,
        "items": review_items(page.object_list),
        "done": reviewed_notice(
            request.GET.get("reviewed", ""), request.GET.get("did", ""), request.user
        ),
        "companies": Company.objects.filter(
            pk__in=Annotation.objects.pending_review().values("snapshot__company_id")
        ),
        "categories": Category.objects.all(),
    }
    return render(request, "annotations/review_list.html", context)


@require_POST
@permission_required("review")
def review_action(request: HttpRequest, pk: int) -> HttpResponse:
    category = Category.objects.filter(slug=request.POST.get("category", "")).first()
    action = request.POST.get("action", "")
    tag, refused = apply_versioned(
        request,
        "Not reviewed",
        lambda version: review_tag(pk, request.user, version, action, category),
    )
    if refused:
        return refused
    filters = _filters(request.POST, "queue_")
    if not request.htmx:
        query = urlencode({**filters, "reviewed": pk, "did": action})
        return redirect(f"{reverse('review_list')}?{query}")
    context = {
        **filters,
        "done": review_done(tag, action, request.user),
        "waiting": pending_reviews(**filters).count(),
        "oob": True,
    }
    return render(request, "annotations/review_list.html#review-done", context)


@require_POST
@permission_required("review")
def review_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Take back one's own review of a moment ago: the tag returns to the queue."""
    _, refused = apply_versioned(
        request, "Not undone", lambda version: undo_review(pk, request.user, version)
    )
    if refused:
        return refused
    filters = _filters(request.POST, "queue_")
    if not request.htmx:
        return redirect(f"{reverse('review_list')}?{urlencode(filters)}#review-{pk}")
    context = {
        **filters,
        "item": review_item(pk),
        "waiting": pending_reviews(**filters).count(),
        "categories": Category.objects.all(),
        "oob": True,
    }
    return render(request, "annotations/review_list.html#review-undone", context)
