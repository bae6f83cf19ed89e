"""The search page: a thin adapter over `policies.searching.search`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from policies.filters import FilterError
from policies.searching.search import (
    SearchFilters,
    clean_query,
    page_number,
    search_categories,
    search_sections,
)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """`/search/?q=...&page=2`: sections of every capture, grouped by company, with filters
    (kept by the page links); htmx page links get the results region alone."""
    raw = request.GET.get("q", "")
    query = clean_query(raw)[0]  # what the page echoes: cleaned and cut to size
    try:
        filters, error = SearchFilters.from_params(request.GET), ""
    except FilterError as exc:
        filters, error = SearchFilters(), str(exc)
    page = page_number(request.GET.get("page", ""))
    results = search_sections(raw, filters, page) if raw.strip() and not error else None
    context = {
        "query": query,
        "site_query": query,
        "filters": filters,
        "form": {name: request.GET.get(name, "")[:100] for name in ("from", "to", "category")},
        "companies": ", ".join(filters.captures.companies),
        "error": error,
        "results": results,
        "categories": search_categories(),
    }
    template = "policies/search.html#search-results" if request.htmx else "policies/search.html"
    return render(request, template, context, status=400 if error else 200)
