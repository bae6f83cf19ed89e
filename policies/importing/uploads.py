"""Imports from the browser: store an upload, queue its run, follow it, and report on it.

The import itself is `importer.import_items`, the workflow the command uses too. This module adds
what a background run needs: a folder per upload (`MEDIA_ROOT/imports/<run id>/`), a queued
`ImportRun` that a worker picks up (`tasks.import_upload`), the heartbeat that tells a busy run
from one whose worker died (`mark_stale_runs`), running a failed upload again, and the report.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from policies.importing.importer import ImportSummary, import_items
from policies.importing.sources import SourceItem, iter_sources
from policies.models import ImportFileResult, ImportRun
from policies.spreadsheets import csv_safe

Status = ImportRun.Status
Outcome = ImportFileResult.Outcome

UPLOADS_DIR = "imports"
REPORT_PAGE_SIZE = 200
_UNSAFE_NAME_RE = re.compile(r"[\x00-\x1f\x7f]")
_CSV_COLUMNS = [
    "position",
    "file",
    "outcome",
    "reason",
    "warnings",
    "company",
    "captured_at",
    "capture_url",
]


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may hold; the form shows these and enforces them."""

    max_files: int
    max_file_bytes: int
    max_upload_bytes: int
    max_archive_bytes: int


def upload_limits() -> UploadLimits:
    """The limits from the settings."""
    return UploadLimits(
        max_files=settings.DATA_UPLOAD_MAX_NUMBER_FILES,
        max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
        max_upload_bytes=settings.IMPORT_MAX_UPLOAD_BYTES,
        max_archive_bytes=settings.IMPORT_MAX_ARCHIVE_BYTES,
    )


def too_many_files_message(limits: UploadLimits) -> str:
    """The message for an upload with more files than one request may carry."""
    return (
        f"Too many files: at most {limits.max_files} per upload. Put them in a .zip or "
        ".tar.gz archive, or upload them in several goes."
    )


def too_big_message(size: int, limits: UploadLimits) -> str:
    """The message for an upload over the size limit (files larger than the per-file limit are
    not refused here: the import reports each of them)."""
    return (
        f"The upload is {filesizeformat(size)}, over the {filesizeformat(limits.max_upload_bytes)}"
        " limit for one upload. Split it into several uploads."
    )


def start_upload_import(
    files: Iterable[UploadedFile],
    *,
    domain: str = "",
    captured_at: datetime | None = None,
    user=None,
) -> ImportRun:
    """Store the uploaded files in the run's folder and queue the run; returns at once.

    Each file goes into its own numbered subfolder, so names are kept exactly as uploaded
    (two files may share a name) and the import reads them in upload order.
    """
    files = list(files)
    run = ImportRun.objects.create(
        status=Status.QUEUED,
        source=", ".join(_safe_name(f.name) for f in files)[:10000],
        user=user,
        domain_override=domain,
        captured_at_override=captured_at,
    )
    run.upload_dir = f"{UPLOADS_DIR}/{run.pk}"
    folder = upload_folder(run)
    try:
        for position, upload in enumerate(files):
            target = folder / f"{position:03d}" / _safe_name(upload.name)
            target.parent.mkdir(parents=True)
            with target.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        _finish_failed(run, f"the upload could not be stored: {exc.strerror or exc}")
        raise
    run.save(update_fields=["upload_dir"])
    _enqueue(run)
    return run


def run_again(run: ImportRun, *, user=None) -> ImportRun:
    """Queue a new run of a failed run's upload; the importer skips what is already stored."""
    if not can_run_again(run):
        raise ValueError(f"import #{run.pk} cannot be run again")
    again = ImportRun.objects.create(
        status=Status.QUEUED,
        source=run.source,
        user=user,
        upload_dir=run.upload_dir,
        domain_override=run.domain_override,
        captured_at_override=run.captured_at_override,
        retry_of=run,
    )
    _enqueue(again)
    return again


def can_run_again(run: ImportRun) -> bool:
    """A failed run can be run again while its upload is stored and no rerun is under way."""
    return (
        run.status == Status.FAILED
        and bool(run.upload_dir)
        and upload_folder(run).is_dir()
        and not run.retries.filter(status__in=[Status.QUEUED, Status.RUNNING]).exists()
    )


def upload_folder(run: ImportRun) -> Path:
    """Where the run's uploaded files are stored."""
    return Path(settings.MEDIA_ROOT) / run.upload_dir


def import_upload(run_id: int) -> ImportSummary | None:
    """Import a queued run's uploaded files: what the background task does.

    Claims the run first (queued -> running), so a task delivered twice imports once. Counts
    the files, then imports them through `importer.import_items`, which records every file's
    outcome batch by batch. The upload is deleted once the run has finished; a failed run keeps
    it so that it can be run again.
    """
    claimed = ImportRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return None
    run = ImportRun.objects.select_related("user").get(pk=run_id)
    paths = sorted(p for p in upload_folder(run).glob("*/*") if p.is_file())
    if not paths:
        _finish_failed(run, "the uploaded files are no longer stored")
        return None
    try:
        total = sum(1 for _ in _upload_items(paths))
    except Exception as exc:
        _finish_failed(run, f"the upload could not be read: {exc}")
        raise
    ImportRun.objects.filter(pk=run.pk).update(total_files=total, updated_at=timezone.now())
    summary = import_items(
        _upload_items(paths),
        source=run.source,
        domain=run.domain_override or None,
        captured_at=run.captured_at_override,
        user=run.user,
        run=run,
    )
    shutil.rmtree(upload_folder(run), ignore_errors=True)
    return summary


def mark_stale_runs(stale_after: timedelta | None = None) -> int:
    """Mark runs whose worker stopped (no heartbeat for `stale_after`) as failed; how many.

    A worker that is killed cannot say so: its run stays "running" with the batches it
    committed. Default threshold: IMPORT_STALE_MINUTES. Only reads when nothing is stale, so the
    pages that call this on every view never wait on a busy SQLite writer.
    """
    if stale_after is None:
        stale_after = timedelta(minutes=settings.IMPORT_STALE_MINUTES)
    cutoff = timezone.now() - stale_after
    stale = list(
        ImportRun.objects.filter(status=Status.RUNNING, updated_at__lte=cutoff).values_list(
            "pk", "files_read"
        )
    )
    for pk, files_read in stale:
        ImportRun.objects.filter(pk=pk, status=Status.RUNNING).update(
            status=Status.FAILED,
            finished_at=timezone.now(),
            message=f"worker stopped; {files_read} file{'s' if files_read != 1 else ''} "
            f"{'were' if files_read != 1 else 'was'} imported",
        )
    return len(stale)


def is_active(run: ImportRun) -> bool:
    """True while the run is queued or running: its page keeps polling."""
    return run.status in (Status.QUEUED, Status.RUNNING)


def report_results(run: ImportRun) -> QuerySet[ImportFileResult]:
    """The run's per-file results, failures first, then in file order."""
    return (
        run.results.select_related("snapshot__company")
        .annotate(
            failed_first=Case(
                When(outcome=Outcome.FAILED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("failed_first", "position")
    )


# The importer's reasons name the command's options; a run from the browser names the upload
# form's fields instead (the same facts, in the words of the page the importer used).
_FORM_WORDING = (
    ("pass --domain and --captured-at", "fill in the Domain and Capture date fields"),
    ("--captured-at is needed too", "the Capture date field is needed too"),
    ("--domain is needed too", "the Domain field is needed too"),
    ("--captured-at", "the Capture date field"),
    ("--domain", "the Domain field"),
)


def form_wording(reason: str) -> str:
    """A reason from the importer, worded for someone who used the upload form."""
    for command_words, form_words in _FORM_WORDING:
        reason = reason.replace(command_words, form_words)
    return reason


def _worded_for(run: ImportRun, reason: str) -> str:
    return form_wording(reason) if run.user_id else reason


def report_page(run: ImportRun, page_number: str | int | None) -> Page | None:
    """One page of the report, or None while the run is still going; a run from the browser
    has its reasons worded for the upload form."""
    if is_active(run):
        return None
    page = Paginator(report_results(run), REPORT_PAGE_SIZE).get_page(page_number)
    for result in page.object_list:
        result.reason = _worded_for(run, result.reason)
    return page


def iter_report_csv(run: ImportRun) -> Iterator[str]:
    """The report as CSV lines, streamed; cells that a spreadsheet would run are escaped."""
    buffer = _LineBuffer()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    yield buffer.take()
    for result in report_results(run).iterator(chunk_size=2000):
        snapshot = result.snapshot
        writer.writerow(
            csv_safe(cell)
            for cell in (
                result.position,
                result.name,
                result.get_outcome_display(),
                _worded_for(run, result.reason),
                result.warnings.replace("\n", "; "),
                snapshot.company.slug if snapshot else "",
                snapshot.captured_at.isoformat() if snapshot else "",
                snapshot.get_absolute_url() if snapshot else "",
            )
        )
        yield buffer.take()


class _LineBuffer:
    """A file-like object that hands back what the csv writer wrote since the last take()."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> None:
        self._parts.append(text)

    def take(self) -> str:
        text, self._parts = "".join(self._parts), []
        return text


def _upload_items(paths: list[Path]) -> Iterator[SourceItem]:
    """The source items of the stored files, named as uploaded (no server paths in reports)."""
    for path in paths:
        prefix = f"{path.parent}/"
        for item in iter_sources(
            [path],
            max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
            max_archive_bytes=settings.IMPORT_MAX_ARCHIVE_BYTES,
        ):
            yield replace(item, name=item.name.removeprefix(prefix))


def _safe_name(name: str) -> str:
    """The uploaded file's own name, usable as a file name: no folders, no control characters."""
    name = PurePosixPath(name.replace("\\", "/")).name
    name = _UNSAFE_NAME_RE.sub("", name).strip()
    if name in {"", ".", ".."}:
        name = "upload"
    # File systems allow 255 bytes; keep the end, where the suffix that matters is.
    while len(name.encode("utf-8")) > 200:
        name = name[1:]
    return name


def _finish_failed(run: ImportRun, message: str) -> None:
    ImportRun.objects.filter(pk=run.pk).update(
        status=Status.FAILED, finished_at=timezone.now(), message=message[:2000]
    )


def _enqueue(run: ImportRun) -> None:
    # Imported here: the task module imports this one.
    from .tasks import import_upload_task

    import_upload_task.enqueue(run.pk)
