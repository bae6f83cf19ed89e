"""Comparing two captures of a company: the compare page and the form that leads to it."""

from __future__ import annotations

from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from policies.comparing.comparison import compare_texts, display_rows, nearest_different
from policies.extensions import overlay
from policies.models import Company
from policies.pagecache import stored_page
from policies.reading.views import capture_at


@require_GET
def compare_form(request: HttpRequest, slug: str) -> HttpResponse:
    """The plain-GET form on the history and compare pages lands here and is redirected."""
    company = get_object_or_404(Company, slug=slug)
    old, new = request.GET.get("from", ""), request.GET.get("to", "")
    try:
        url = reverse("compare", args=[company.slug, old, new])
    except NoReverseMatch:  # the values are not dates or timestamps
        return render(
            request,
            "policies/bad_request.html",
            {"message": "Choose two captures to compare.", "back": company.get_absolute_url()},
            status=400,
        )
    if request.GET.get("changes") == "only":
        url += "?changes=only"
    return redirect(url)


@require_GET
@stored_page(query=("changes=only",))
def compare(request: HttpRequest, slug: str, old: str, new: str) -> HttpResponse:
    company = get_object_or_404(Company, slug=slug)
    left, right = capture_at(company, old), capture_at(company, new)
    if left.captured_at > right.captured_at:
        left, right = right, left  # older on the left, whichever order the URL gives
    diff = compare_texts(left.text, right.text)
    changes_only = request.GET.get("changes") == "only"
    rows = display_rows(diff)
    # The form's list, with each capture's wording to offer the nearest that differ.
    captures = list(
        company.snapshots.order_by("captured_at")
        .only("captured_at", "company_id")
        .annotate(wording=F("text__normalized_hash"))
    )
    context = {
        "company": company,
        "left": left,
        "right": right,
        "diff": diff,
        "rows": list(zip(rows, overlay().changed_row_notes(left, rows, request.user), strict=True)),
        "first_change": any(item.change for item in rows),
        "changes_only": changes_only,
        "captures": captures,
        "nearest": nearest_different(captures, left, right) if diff.identical else None,
    }
    template = "policies/compare.html"
    if request.htmx and request.htmx.target == "comparison":
        template += "#comparison"
    response = render(request, template, context)
    if request.htmx:
        canonical = reverse("compare", args=[company.slug, left.timestamp, right.timestamp])
        response["HX-Push-Url"] = canonical + ("?changes=only" if changes_only else "")
    return response
