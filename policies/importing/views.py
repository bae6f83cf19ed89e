"""Imports from the browser: the runs, the upload form, a run's progress and its report.

Adapters over `policies.importing.uploads`; the import itself runs in the background
(`policies.importing.tasks`).
Staff and members of the Importer group only.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.core.paginator import Paginator
from django.core.validators import DomainNameValidator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from policies.importing.corpus import CorpusFormatError, parse_capture_time
from policies.importing.uploads import (
    UploadLimits,
    can_run_again,
    is_active,
    iter_report_csv,
    mark_stale_runs,
    report_page,
    run_again,
    start_upload_import,
    too_big_message,
    too_many_files_message,
    upload_limits,
)
from policies.models import ImportRun
from policies.permissions import permission_required

RUNS_PAGE_SIZE = 50


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one `<input type=file multiple>`; empty files are the importer's to
    report, so they are accepted here."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, allow_empty_file=True, **kwargs)

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise ValidationError("Choose at least one file to import.", code="required")
        clean_one = super().clean
        return [clean_one(f, initial) for f in files]


class UploadForm(forms.Form):
    files = MultipleFileField(label="Policy files or archives")
    domain = forms.CharField(
        required=False,
        max_length=253,
        validators=[DomainNameValidator(accept_idna=False)],
        help_text="Overrides the domain in the files' header lines.",
    )
    captured_at = forms.CharField(
        required=False,
        max_length=40,
        label="Capture date",
        help_text="YYYY-MM-DD or a 14-digit Wayback timestamp; overrides the header's.",
    )

    def __init__(self, *args, limits: UploadLimits, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits

    def clean_files(self) -> list:
        files = self.cleaned_data["files"]
        total = sum(f.size for f in files)
        if total > self.limits.max_upload_bytes:
            raise ValidationError(too_big_message(total, self.limits))
        return files

    def clean_domain(self) -> str:
        return self.cleaned_data["domain"].strip().lower()

    def clean_captured_at(self):
        value = self.cleaned_data["captured_at"].strip()
        try:
            return parse_capture_time(value) if value else None
        except CorpusFormatError as exc:
            raise ValidationError(str(exc)) from exc


@require_GET
@permission_required("import")
def import_list(request: HttpRequest) -> HttpResponse:
    mark_stale_runs()
    page = Paginator(ImportRun.objects.for_list(), RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "policies/import_list.html", {"page": page})


# CSRF is checked by `_start_import`, once the body has been parsed here: the middleware would
# parse it first and turn "too many files" into an error page instead of a form message.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@permission_required("import")
def import_new(request: HttpRequest) -> HttpResponse:
    limits = upload_limits()
    if request.method == "GET":
        return _upload_form(request, UploadForm(limits=limits))
    problem = _upload_limit_problem(request, limits)
    if problem:
        return _upload_form(request, UploadForm(limits=limits), problem=problem, status=400)
    return _start_import(request, limits)


@csrf_protect
def _start_import(request: HttpRequest, limits: UploadLimits) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES, limits=limits)
    if not form.is_valid():
        return _upload_form(request, form, status=400)
    run = start_upload_import(
        form.cleaned_data["files"],
        domain=form.cleaned_data["domain"],
        captured_at=form.cleaned_data["captured_at"],
        user=request.user,
    )
    return redirect("import_detail", run_id=run.pk)


def _upload_limit_problem(request: HttpRequest, limits: UploadLimits) -> str | None:
    """Why the request itself is refused (before any form validation), or None."""
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    if size > limits.max_upload_bytes:
        return too_big_message(size, limits)  # refused before reading the body
    try:
        request.POST, request.FILES  # noqa: B018 -- parsing is what may fail
    except TooManyFilesSent:
        return too_many_files_message(limits)
    except (RequestDataTooBig, TooManyFieldsSent):
        return "The form data is too large."
    except MultiPartParserError:
        return "The upload arrived incomplete or damaged. Please try again."
    return None


def _upload_form(
    request: HttpRequest, form: UploadForm, *, problem: str = "", status: int = 200
) -> HttpResponse:
    context = {"form": form, "limits": form.limits, "problem": problem}
    return render(request, "policies/import_new.html", context, status=status)


@require_GET
@permission_required("import")
def import_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    mark_stale_runs()
    run = get_object_or_404(ImportRun.objects.for_page(), pk=run_id)
    context = {
        "run": run,
        "active": is_active(run),
        "page": report_page(run, request.GET.get("page")),
        "can_run_again": can_run_again(run),
    }
    template = "policies/import_detail.html"
    if request.htmx:
        template += "#import-run"
    return render(request, template, context)


@require_GET
@permission_required("import")
def import_report_csv(request: HttpRequest, run_id: int) -> StreamingHttpResponse:
    run = get_object_or_404(ImportRun, pk=run_id)
    response = StreamingHttpResponse(iter_report_csv(run), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-report.csv"'
    return response


@require_POST
@permission_required("import")
def import_again(request: HttpRequest, run_id: int) -> HttpResponse:
    mark_stale_runs()
    run = get_object_or_404(ImportRun, pk=run_id)
    try:
        again = run_again(run, user=request.user)
    except ValueError:
        messages.error(
            request,
            "This import cannot be run again: it did not fail, or its "
            "uploaded files are gone, or it is already running again.",
        )
        return redirect("import_detail", run_id=run.pk)
    return redirect("import_detail", run_id=again.pk)
