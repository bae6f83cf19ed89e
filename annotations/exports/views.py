"""The export page and the stable download URLs: thin adapters over `annotations.exports.export`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from annotations.exports.export import (
    CONTENT_TYPES,
    FORMATS,
    ExportFilters,
    count_annotations,
    export_chunks,
    export_filename,
)
from annotations.models import Annotation, Category
from policies.filters import FilterError, param_flag
from policies.permissions import permission_required


def _query_without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@require_GET
@permission_required("export")
def export_page(request: HttpRequest) -> HttpResponse:
    """Filters and a format; choosing a format redirects to the stable download URL."""
    try:
        filters = ExportFilters.from_params(request.GET)
    except FilterError as exc:
        filters, error = ExportFilters(), str(exc)
    else:
        error = ""
    query = _query_without(request, "format")
    query = f"?{query}" if query else ""
    fmt = request.GET.get("format", "")
    if fmt in FORMATS and not error:
        return redirect(reverse("export_annotations", args=[fmt]) + query)
    context = {
        "filters": filters,
        "error": error,
        "count": None if error else count_annotations(filters),
        "categories": Category.objects.all(),
        "statuses": Annotation.Status.choices,
        "links": [(f, reverse("export_annotations", args=[f]) + query) for f in FORMATS],
        "raw": param_flag(request.GET, "raw"),
        "excel": param_flag(request.GET, "excel"),
    }
    return render(request, "annotations/export.html", context, status=400 if error else 200)


@require_GET
@permission_required("export")
def export_annotations(request: HttpRequest, fmt: str) -> HttpResponse:
    """The tags matching the query's filters, streamed as CSV, JSON Lines or JSON-LD."""
    try:
        filters = ExportFilters.from_params(request.GET)
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
