"""The trends page and its CSV: thin adapters over `policies.trends.trends`."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from policies.filters import FilterError
from policies.trends.trends import (
    MAX_QUERIES,
    TREND_COLUMNS,
    TrendFilters,
    Trends,
    corpus_trends,
    trend_charts,
    trend_rows,
)

EXAMPLE_QUERIES = ('"do not track"', "GDPR", '"legitimate interest"')


def _trends(request: HttpRequest) -> tuple[Trends | None, str]:
    try:
        return corpus_trends(TrendFilters.from_params(request.GET)), ""
    except FilterError as exc:
        return None, str(exc)


@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    """`/trends/?company=...&from=...&to=...&q=...`: the corpus per half-year, in charts and
    tables; the same figures at `trends.csv` (same query string) and `/api/v1/trends`."""
    result, error = _trends(request)
    queries = [q for q in request.GET.getlist("q") if q.strip()][:MAX_QUERIES]
    context = {
        "trends": result,
        "charts": trend_charts(result) if result else None,
        "error": error,
        "form": {name: request.GET.get(name, "")[:200] for name in ("company", "from", "to")},
        "queries": queries + [""] * (MAX_QUERIES - len(queries)),
        "examples": EXAMPLE_QUERIES,
        "query_string": request.GET.urlencode(),
    }
    return render(request, "policies/trends.html", context, status=400 if error else 200)


@require_GET
def trends_csv(request: HttpRequest) -> HttpResponse:
    """Every chart's figures as CSV (one row per chart, series and half-year)."""
    result, error = _trends(request)
    if result is None:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="palimpsest-trends.csv"'
    writer = csv.writer(response)
    writer.writerow(TREND_COLUMNS)
    writer.writerows(trend_rows(result))
    return response
