"""Accepting and rejecting suggestions, and where a clause's wording also appears."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotations.suggesting import index, suggestions
from annotations.tagging.tags import TaggingError
from annotations.tagging.views import refused_response, section_response
from policies.models import Company, Section, Snapshot
from policies.permissions import permission_required
from policies.reading.views import capture_at


class SuggestionForm(forms.Form):
    snapshot = forms.IntegerField()
    section = forms.IntegerField()
    key = forms.CharField(max_length=200)


class AcceptAllForm(forms.Form):
    snapshot = forms.IntegerField()
    minimum = forms.FloatField(min_value=0, max_value=1)


def _decide(request: HttpRequest, decide) -> HttpResponse:
    form = SuggestionForm(request.POST)
    if not form.is_valid():
        return refused_response(request, TaggingError(form.errors.as_text()), "Not done")
    data = form.cleaned_data
    snapshot = get_object_or_404(Snapshot.objects.select_related("company"), pk=data["snapshot"])
    section = get_object_or_404(Section, pk=data["section"], text_id=snapshot.text_id)
    try:
        decide(snapshot, section, request.user, data["key"])
    except TaggingError as exc:
        return refused_response(request, exc, "Not done")
    return section_response(request, snapshot, section, section.anchor)


@require_POST
@permission_required("tag")
def suggestion_accept(request: HttpRequest) -> HttpResponse:
    return _decide(request, suggestions.accept)


@require_POST
@permission_required("tag")
def suggestion_reject(request: HttpRequest) -> HttpResponse:
    return _decide(request, suggestions.reject)


@require_POST
@permission_required("tag")
def suggestion_accept_all(request: HttpRequest) -> HttpResponse:
    form = AcceptAllForm(request.POST)
    if not form.is_valid():
        return refused_response(request, TaggingError(form.errors.as_text()), "Not done")
    snapshot = get_object_or_404(Snapshot, pk=form.cleaned_data["snapshot"])
    minimum = form.cleaned_data["minimum"]
    accepted = suggestions.accept_all(snapshot, request.user, minimum)
    response = redirect(snapshot.get_absolute_url())
    if request.htmx:  # the whole page changes: load it again
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
    response["X-Accepted"] = str(len(accepted))
    return response


@require_GET
def shared_wording(request: HttpRequest, slug: str, capture: str) -> HttpResponse:
    """The clauses of a capture whose exact wording appears in other companies' policies."""
    snapshot = capture_at(get_object_or_404(Company, slug=slug), capture)
    rows = index.shared_clauses(snapshot)
    context = {"company": snapshot.company, "snapshot": snapshot, "rows": rows}
    return render(request, "annotations/shared_wording.html", context)


@require_GET
def wording_detail(request: HttpRequest, key: int) -> HttpResponse:
    """Every company whose policy contains a wording, with the first capture that has it."""
    found = index.occurrences(key)
    if not found:
        raise Http404("No policy has this wording.")
    text = index.wording_text(key)
    return render(request, "annotations/wording.html", {"text": text, "occurrences": found})
