"""Reading pages: the companies, a company's history, one capture, and a comparison of two."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from annotations.lineage.timeline import practice_timeline
from annotations.models import Category
from annotations.tagging.overlay import reader_links, sections_with_tags, tags_on_changed_rows
from policies.comparing.comparison import compare_texts, display_rows
from policies.models import Company, Domain, Snapshot
from policies.permissions import can_tag as may_tag
from policies.reading.charts import sparkline
from policies.reading.history import company_history, nearest_capture
from policies.reading.reader import rendered_sections

SORTS = {
    "name": ("name", "slug"),
    "captures": ("-capture_count", "name"),
    "last": ("-last_capture", "name"),
    "first": ("first_capture", "name"),
}
PAGE_SIZE = 50


def _companies_for_list(query: str, sort: str):
    companies = Company.objects.all()
    if query:
        companies = companies.filter(
            Q(name__icontains=query)
            | Q(pk__in=Domain.objects.filter(name__icontains=query).values("company_id"))
        )
    timeline = Snapshot.objects.order_by("captured_at").select_related("text")
    return companies.order_by(*SORTS[sort]).prefetch_related(
        "domains",
        Prefetch(
            "snapshots", queryset=timeline.only("company_id", "captured_at", "text__word_count")
        ),
    )


@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    sort = request.GET.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    page = Paginator(_companies_for_list(query, sort), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (company, sparkline([s.text.word_count for s in company.snapshots.all()]))
        for company in page.object_list
    ]
    context = {"page": page, "rows": rows, "query": query, "sort": sort, "sorts": SORTS}
    template = "policies/company_list.html"
    if request.htmx:
        template += "#company-results"
    return render(request, template, context)


@require_GET
def company_detail(request: HttpRequest, slug: str) -> HttpResponse:
    company = get_object_or_404(Company.objects.prefetch_related("domains"), slug=slug)
    history = company_history(company)
    practices = practice_timeline(company, [row.snapshot for row in history.rows])
    return render(
        request,
        "policies/company_detail.html",
        {"company": company, "history": history, "rows": history.rows, "practices": practices},
    )


def _capture(company: Company, token: str) -> Snapshot:
    snapshot = (
        company.snapshots.at_capture(token)
        .select_related("text", "domain")
        .defer("text__body")
        .order_by("captured_at")
        .last()
    )
    if snapshot is None:
        raise Http404(f"{company.slug} has no capture at {token}")
    return snapshot


@require_GET
def snapshot_detail(request: HttpRequest, slug: str, capture: str) -> HttpResponse:
    company = get_object_or_404(Company, slug=slug)
    try:
        snapshot = _capture(company, capture)
    except Http404:
        nearest = nearest_capture(company, capture)
        if nearest is None:
            raise
        messages.info(
            request,
            f"{company.name} has no capture on {capture}; this is the nearest one, "
            f"{nearest.captured_at:%Y-%m-%d}.",
        )
        return redirect(nearest.get_absolute_url())
    neighbours = company.snapshots.only("captured_at", "company_id").order_by("captured_at")
    previous = neighbours.filter(captured_at__lt=snapshot.captured_at).last()
    following = neighbours.filter(captured_at__gt=snapshot.captured_at).first()
    can_tag = may_tag(request.user)
    context = {
        "company": company,
        "snapshot": snapshot,
        "items": sections_with_tags(snapshot, rendered_sections(snapshot.text)),
        "previous": previous,
        "next": following,
        "can_tag": can_tag,
        "categories": Category.objects.all() if can_tag else [],
        **reader_links(company),
    }
    return render(request, "policies/snapshot_detail.html", context)


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
def compare(request: HttpRequest, slug: str, old: str, new: str) -> HttpResponse:
    company = get_object_or_404(Company, slug=slug)
    left, right = _capture(company, old), _capture(company, new)
    if left.captured_at > right.captured_at:
        left, right = right, left  # older on the left, whichever order the URL gives
    diff = compare_texts(left.text, right.text)
    changes_only = request.GET.get("changes") == "only"
    rows = display_rows(diff)
    context = {
        "company": company,
        "left": left,
        "right": right,
        "diff": diff,
        "rows": list(zip(rows, tags_on_changed_rows(left, rows), strict=True)),
        "first_change": any(item.change for item in rows),
        "changes_only": changes_only,
        "captures": company.snapshots.order_by("captured_at").only("captured_at", "company_id"),
    }
    template = "policies/compare.html"
    if request.htmx and request.htmx.target == "comparison":
        template += "#comparison"
    response = render(request, template, context)
    if request.htmx:
        canonical = reverse("compare", args=[company.slug, left.timestamp, right.timestamp])
        response["HX-Push-Url"] = canonical + ("?changes=only" if changes_only else "")
    return response
