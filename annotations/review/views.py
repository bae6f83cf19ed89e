"""The review queue: proposed copies of tags, confirmed or dismissed by reviewers."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotations.models import Annotation, Category
from annotations.review.queue import pending_reviews, review_items
from annotations.tagging.tags import Conflict, TaggingError, review_tag
from annotations.tagging.views import VersionForm, message_response, refused_response
from policies.models import Company
from policies.permissions import permission_required


@require_GET
@permission_required("review")
def review_list(request: HttpRequest) -> HttpResponse:
    company = request.GET.get("company", "")
    category = request.GET.get("category", "")
    page = Paginator(pending_reviews(company, category), 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "items": review_items(page.object_list),
        "company": company,
        "category": category,
        "companies": Company.objects.filter(
            pk__in=Annotation.objects.pending_review().values("snapshot__company_id")
        ),
        "categories": Category.objects.all(),
    }
    return render(request, "annotations/review_list.html", context)


@require_POST
@permission_required("review")
def review_action(request: HttpRequest, pk: int) -> HttpResponse:
    form = VersionForm(request.POST)
    category = Category.objects.filter(slug=request.POST.get("category", "")).first()
    if not form.is_valid():
        return message_response(request, "Not reviewed: the form was incomplete.", 400)
    try:
        review_tag(
            pk, request.user, form.cleaned_data["version"], request.POST.get("action", ""), category
        )
    except (Conflict, TaggingError) as exc:
        return refused_response(request, exc, "Not reviewed")
    if request.htmx:
        return HttpResponse("")  # the reviewed item disappears from the queue
    return redirect("review_list")
