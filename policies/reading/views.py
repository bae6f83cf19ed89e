"""Reading pages: the companies, a company's history, and one capture."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from policies.extensions import overlay
from policies.models import Company, Domain, Snapshot
from policies.pagecache import stored_page
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
@stored_page()
def company_detail(request: HttpRequest, slug: str) -> HttpResponse:
    company = get_object_or_404(Company.objects.prefetch_related("domains"), slug=slug)
    history = company_history(company)
    context = {
        "company": company,
        "history": history,
        "rows": history.rows,
        **overlay().history_context(company, [row.snapshot for row in history.rows], request.user),
    }
    return render(request, "policies/company_detail.html", context)


def capture_at(company: Company, token: str) -> Snapshot:
    """The capture a URL token names (the day's last for a date), or 404."""
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
@stored_page()
def snapshot_detail(request: HttpRequest, slug: str, capture: str) -> HttpResponse:
    company = get_object_or_404(Company, slug=slug)
    try:
        snapshot = capture_at(company, capture)
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
    context = {
        "company": company,
        "snapshot": snapshot,
        "previous": previous,
        "next": following,
        **overlay().reader_context(request, company, snapshot, rendered_sections(snapshot.text)),
    }
    return render(request, "policies/snapshot_detail.html", context)
