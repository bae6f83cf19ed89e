"""The export page and the stable download URLs: thin adapters over `annotations.exports.export`."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from annotations.exports.export import (
    CONTENT_TYPES,
    FORMATS,
    ExportFilters,
    describe_statuses,
    export_chunks,
    export_filename,
    status_choices,
)
from annotations.models import Campaign, Category
from policies.companies import complete_company_list
from policies.filters import FilterError, param_flag, param_values
from policies.permissions import can_run_campaigns, permission_required


def _query_without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def _suggestion_links(request: HttpRequest, exc: FilterError) -> list[tuple[str, str]]:
    """For each close match of an unknown company: (the match, this page's URL with it in place
    of what was typed)."""
    links = []
    typed = param_values(request.GET, "company")
    for slug, matches in getattr(exc, "unknown", {}).items():
        for match in matches:
            params = request.GET.copy()
            params.setlist("company", [match if t == slug else t for t in typed])
            links.append((match, f"?{params.urlencode()}"))
    return links


@require_GET
@permission_required("export")
def export_page(request: HttpRequest) -> HttpResponse:
    """Filters and a format; choosing a format redirects to the stable download URL."""
    error, suggestions = "", []
    try:
        filters = ExportFilters.from_params(
            request.GET, running_campaigns=can_run_campaigns(request.user)
        )
    except FilterError as exc:
        filters = getattr(exc, "filters", None) or ExportFilters()
        error, suggestions = str(exc), _suggestion_links(request, exc)
    query = _query_without(request, "format")
    query = f"?{query}" if query else ""
    fmt = request.GET.get("format", "")
    if fmt in FORMATS and not error:
        return redirect(reverse("export_annotations", args=[fmt]) + query)
    statuses = status_choices(filters, counted=not error)
    context = {
        "filters": filters,
        "error": error,
        "suggestions": suggestions,
        # What was typed, kept in the field even when it named no company.
        "company_text": ", ".join(param_values(request.GET, "company")),
        "company_options": complete_company_list(""),
        "statuses": statuses,
        "count": None if error else sum(s.count for s in statuses if s.included),
        "status_summary": "" if error else describe_statuses(statuses),
        "categories": Category.objects.all(),
        "campaigns": Campaign.objects.order_by("name").values_list("slug", "name", "status"),
        "links": [(f, reverse("export_annotations", args=[f]) + query) for f in FORMATS],
        "raw": param_flag(request.GET, "raw"),
        "excel": param_flag(request.GET, "excel"),
    }
    return render(request, "annotations/export.html", context, status=400 if error else 200)


@require_GET
@permission_required("export")
def export_companies(request: HttpRequest) -> HttpResponse:
    """The company picker's suggestions for what is typed so far (htmx, as you type); without
    htmx, the export page with what was typed."""
    typed = request.GET.get("company", "")
    if not request.htmx:
        return redirect(
            reverse("export_page") + (f"?{urlencode({'company': typed})}" if typed else "")
        )
    context = {"company_options": complete_company_list(typed)}
    return render(request, "annotations/export.html#company-options", context)


@require_GET
@permission_required("export")
def export_annotations(request: HttpRequest, fmt: str) -> HttpResponse:
    """The tags matching the query's filters, streamed as CSV, JSON Lines or JSON-LD."""
    try:
        filters = ExportFilters.from_params(
            request.GET, running_campaigns=can_run_campaigns(request.user)
        )
    except FilterError as exc:
        return HttpResponse(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    chunks = export_chunks(
        filters,
        fmt,
        raw=param_flag(request.GET, "raw"),
        excel=param_flag(request.GET, "excel"),
    )
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{export_filename(fmt)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
