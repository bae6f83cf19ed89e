"""Files → captures: the one import workflow behind the command, the upload view and the task.

Sources (`sources.iter_sources`) yield named byte blobs; each is decoded and parsed
(`corpus`), split into sections (`sectioning`) and written in batches. A batch is one
transaction; if the database refuses anything in it, the batch is retried one capture per
transaction, so a bad capture fails alone and no capture is ever half-written. The new texts
of a batch are derived in a second process (`deriving`) while the batch before is written.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from policies import extensions
from policies.bulk import copy_models
from policies.importing.corpus import CorpusFormatError, Header, decode_policy_bytes, split_policy
from policies.importing.deriving import Deriver
from policies.importing.sources import SourceItem, iter_sources
from policies.models import (
    Company,
    Domain,
    ImportFileResult,
    ImportRun,
    PolicyText,
    SeasonPolicy,
    Section,
    Snapshot,
    TrendText,
)
from policies.reading.text import TEXT_VERSION, DerivedPolicy, derive_policy

Outcome = ImportFileResult.Outcome

# Flush a batch at whichever comes first; bounds memory whatever the number of files.
BATCH_FILES = 500
BATCH_BYTES = 32 * 1024 * 1024

# Files read and parsed ahead of the batch being written, by a thread (see `_parse_ahead`).
READ_AHEAD = BATCH_FILES

# After an import that grew the captures by this many, and by a tenth (autovacuum's own default
# rule), the tables it wrote are analysed: see `analyze_after_import`.
ANALYZE_MIN_CAPTURES = 50
ANALYZE_SHARE = 0.1
# Largest first: the sections (with their search vectors and md5 index) are what search joins.
# The half-year policies and their texts (`refresh_capture_stats`) grow with the captures: the
# trends' plans depend on their statistics as much as the searches' on the sections'.
IMPORTED_TABLES = (
    Section,
    PolicyText,
    Snapshot,
    ImportFileResult,
    Domain,
    Company,
    SeasonPolicy,
    TrendText,
)


@dataclass
class FileReport:
    """What happened to one file: the unit of the command's --json output and the run's report."""

    name: str
    outcome: str
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    company: str = ""
    captured_at: datetime | None = None
    snapshot_id: int | None = None

    def as_dict(self) -> dict:
        return {
            "file": self.name,
            "outcome": self.outcome,
            "reason": self.reason,
            "warnings": self.warnings,
            "company": self.company,
            "captured_at": self.captured_at.isoformat() if self.captured_at else None,
            "snapshot_id": self.snapshot_id,
        }


@dataclass
class ImportSummary:
    run_id: int | None = None
    dry_run: bool = False
    files_read: int = 0
    new: int = 0
    unchanged: int = 0
    present: int = 0
    failed: int = 0
    failures: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def add(self, report: FileReport) -> None:
        self.files_read += 1
        counter = {
            Outcome.NEW: "new",
            Outcome.UNCHANGED: "unchanged",
            Outcome.PRESENT: "present",
            Outcome.FAILED: "failed",
        }[report.outcome]
        setattr(self, counter, getattr(self, counter) + 1)
        if report.outcome == Outcome.FAILED:
            self.failures.append(report)


@dataclass
class _Parsed:
    """A file that decoded and parsed: everything needed to write it, computed outside the DB."""

    name: str
    header: Header
    body: str
    sha256: str
    warnings: list[str]


def parse_item(
    item: SourceItem, *, domain: str | None = None, captured_at: datetime | None = None
) -> _Parsed | FileReport:
    """Decode and parse one source item; a FileReport (failed) explains why it cannot be used."""
    if item.error is not None or item.data is None:
        return FileReport(item.name, Outcome.FAILED, reason=item.error or "could not be read")
    try:
        decoded = decode_policy_bytes(item.data)
        header, body = split_policy(decoded.text, domain=domain, captured_at=captured_at)
    except CorpusFormatError as exc:
        return FileReport(item.name, Outcome.FAILED, reason=str(exc))
    if not body.strip():
        return FileReport(
            item.name, Outcome.FAILED, reason="the file has a header but no policy text"
        )
    return _Parsed(
        name=item.name,
        header=header,
        body=body,
        # Only what identifies the capture: titles, hashes and sections are computed later, once
        # per new text (a re-import or an unchanged capture never pays for them).
        sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        warnings=list(decoded.warnings),
    )


def import_paths(
    paths: Iterable[str | Path],
    *,
    domain: str | None = None,
    captured_at: datetime | None = None,
    dry_run: bool = False,
    max_file_bytes: int | None = None,
    max_archive_bytes: int | None = None,
    user=None,
    run: ImportRun | None = None,
    on_file: Callable[[FileReport], None] | None = None,
) -> ImportSummary:
    """Import policy files, folders, archives and corpus clones; see `import_items`."""
    paths = [str(p) for p in paths]
    items = iter_sources(
        paths,
        max_file_bytes=max_file_bytes or settings.IMPORT_MAX_FILE_BYTES,
        max_archive_bytes=max_archive_bytes or settings.IMPORT_MAX_ARCHIVE_BYTES,
    )
    return import_items(
        items,
        source=" ".join(paths),
        domain=domain,
        captured_at=captured_at,
        dry_run=dry_run,
        user=user,
        run=run,
        on_file=on_file,
    )


def import_items(
    items: Iterable[SourceItem],
    *,
    source: str,
    domain: str | None = None,
    captured_at: datetime | None = None,
    dry_run: bool = False,
    user=None,
    run: ImportRun | None = None,
    on_file: Callable[[FileReport], None] | None = None,
) -> ImportSummary:
    """Import a stream of source items, recording the run and one result per file.

    Idempotent: a capture already stored (same company and capture time, same text) is reported
    as present and nothing is written. With `dry_run`, everything runs inside a transaction that
    is rolled back, so the counts are exactly what a real run would report.
    """
    summary = ImportSummary(dry_run=dry_run)
    if dry_run:
        with transaction.atomic():
            _run_batches(items, summary, source, domain, captured_at, user, None, on_file)
            transaction.set_rollback(True)
        summary.run_id = None
        return summary
    _run_batches(items, summary, source, domain, captured_at, user, run, on_file)
    analyze_after_import(summary.new + summary.unchanged)
    return summary


def analyze_after_import(created: int) -> list[str]:
    """ANALYZE the tables an import wrote when it grew them enough to mislead the planner; return
    the tables analysed.

    Right after a bulk import PostgreSQL's statistics describe the tables as they were (or as
    empty), and the planner then sorts every section by md5(body) instead of using its index:
    searches go from milliseconds to seconds. Autovacuum would analyse them eventually, but it
    may be off or slow, so the import does it itself, by autovacuum's default rule (50 rows plus
    a tenth of the table; counted on the captures, this import's and those since the last
    analyse). ANALYZE samples a fixed number of rows, so it costs well under a second whatever
    the size. SQLite: nothing to do (its planner needs no statistics here).
    """
    if connection.vendor != "postgresql" or created < ANALYZE_MIN_CAPTURES:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest(c.reltuples, 0), coalesce(s.n_mod_since_analyze, 0) "
            "FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = %s::regclass",
            [Snapshot._meta.db_table],
        )
        analysed_rows, modified = cursor.fetchone()
        # reltuples counts this import's captures once autovacuum or an index build saw them.
        if max(created, modified) < ANALYZE_MIN_CAPTURES + ANALYZE_SHARE * analysed_rows:
            return []
        tables = [model._meta.db_table for model in IMPORTED_TABLES]
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return tables


def _run_batches(items, summary, source, domain, captured_at, user, run, on_file) -> None:
    if run is None:
        run = ImportRun.objects.create(source=source[:10000], user=user)
    summary.run_id = run.pk
    batch: list[_Parsed | FileReport] = []
    batch_bytes = 0
    # The batch read before this one: its texts are being derived while this one is read, and
    # it is written once this one is (so at most two batches are held).
    previous: list[_Parsed | FileReport] = []
    try:
        with Deriver() as deriver:
            for parsed in _parse_ahead(items, domain, captured_at):
                batch.append(parsed)
                if isinstance(parsed, _Parsed):
                    batch_bytes += len(parsed.body)
                if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES:
                    _derive_ahead(batch, deriver)
                    _flush(previous, run, summary, on_file, deriver)
                    previous, batch, batch_bytes = batch, [], 0
            _derive_ahead(batch, deriver)
            _flush(previous, run, summary, on_file, deriver)
            _flush(batch, run, summary, on_file, deriver)
    except BaseException as exc:
        # KeyboardInterrupt included: what was committed stands, the run says it stopped.
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED,
            finished_at=timezone.now(),
            message=f"stopped: {type(exc).__name__}: {exc}"[:2000],
        )
        raise
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.SUCCEEDED if summary.ok else ImportRun.Status.COMPLETED_WITH_ERRORS,
        finished_at=timezone.now(),
    )


class _Raised:
    """An exception from reading the sources, carried to the importer's thread."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def _parse_ahead(
    items: Iterable[SourceItem], domain: str | None, captured_at: datetime | None
) -> Iterator[_Parsed | FileReport]:
    """`parse_item` over the items, run by a thread up to READ_AHEAD files ahead: reading and
    parsing files (pure Python, no database) goes on while the importer waits on PostgreSQL. An
    error reading the sources is raised here, in order; leaving the loop stops the thread."""
    ahead: queue.Queue = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                ahead.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(parse_item(item, domain=domain, captured_at=captured_at)):
                    return
        except BaseException as exc:
            put(_Raised(exc))
        else:
            put(_END)

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while (entry := ahead.get()) is not _END:
            if isinstance(entry, _Raised):
                raise entry.exc
            yield entry
    finally:
        stop.set()
        reader.join()


def _derive_ahead(batch: list[_Parsed | FileReport], deriver: Deriver) -> None:
    """Start deriving the batch's bodies that are not stored yet (one query)."""
    bodies = {entry.sha256: entry.body for entry in batch if isinstance(entry, _Parsed)}
    stored = PolicyText.objects.filter(sha256__in=bodies.keys()).values_list("sha256", flat=True)
    for sha in stored:
        del bodies[sha]
    deriver.submit(bodies)


def _flush(batch, run, summary, on_file, deriver: Deriver) -> None:
    if not batch:
        return
    try:
        _flush_batch(batch, run, summary, on_file, deriver)
    finally:
        deriver.forget(entry.sha256 for entry in batch if isinstance(entry, _Parsed))


def _flush_batch(batch, run, summary, on_file, deriver: Deriver) -> None:
    try:
        with transaction.atomic():
            reports = _write(batch, run, summary.files_read, deriver)
    except DatabaseError:
        # Something in the batch was refused: isolate it by writing one capture per transaction.
        reports = []
        for offset, entry in enumerate(batch):
            try:
                with transaction.atomic():
                    reports.extend(_write([entry], run, summary.files_read + offset, deriver))
            except DatabaseError as exc:
                failed = FileReport(
                    entry.name,
                    Outcome.FAILED,
                    reason=f"the database refused this capture: {str(exc).strip()[:300]}",
                )
                with transaction.atomic():
                    _record([failed], run, summary.files_read + offset)
                reports.append(failed)
    for report in reports:
        summary.add(report)
        if on_file is not None:
            on_file(report)


def _write(
    batch: list[_Parsed | FileReport], run: ImportRun, first_position: int, deriver: Deriver
):
    """Write one batch (inside the caller's transaction) and return its reports in order."""
    parsed = [entry for entry in batch if isinstance(entry, _Parsed)]
    domains = _domains_for({p.header.domain for p in parsed})
    reports, to_create = _sort_out(batch, domains)
    texts = _texts_for([entry for _, entry in to_create], deriver)
    snapshots = [
        Snapshot(
            company_id=domains[entry.header.domain].company_id,
            domain=domains[entry.header.domain],
            captured_at=entry.header.captured_at,
            archive_url=entry.header.archive_url,
            source_url=entry.header.source_url,
            page_title=texts[entry.sha256].page_title,
            text_id=texts[entry.sha256].pk,
            import_run=run,
        )
        for _, entry in to_create
    ]
    created = Snapshot.objects.bulk_create(snapshots, batch_size=500)
    if created:
        company_ids = sorted({s.company_id for s in created})
        Snapshot.objects.refresh_unchanged_flags(company_ids)
        Company.objects.refresh_capture_stats(company_ids)
        unchanged = set(
            Snapshot.objects.filter(pk__in=[s.pk for s in created], unchanged=True).values_list(
                "pk", flat=True
            )
        )
        # Tags already made on these companies follow their clauses into the new captures.
        extensions.captures_imported([s.pk for s in created])
        for (report, _), snapshot in zip(to_create, created, strict=True):
            report.snapshot_id = snapshot.pk
            if snapshot.pk in unchanged:
                report.outcome = Outcome.UNCHANGED
    _record(reports, run, first_position)
    return reports


def _sort_out(
    batch: list[_Parsed | FileReport], domains: dict[str, Domain]
) -> tuple[list[FileReport], list[tuple[FileReport, _Parsed]]]:
    """A report for every entry, and the entries that are new captures: a capture already
    stored with the same text is present, with another text it fails."""
    keys = {
        (domains[e.header.domain].company_id, e.header.captured_at)
        for e in batch
        if isinstance(e, _Parsed)
    }
    existing = {
        (company_id, when): (pk, sha)
        for pk, company_id, when, sha in Snapshot.objects.filter(
            company_id__in={k[0] for k in keys}, captured_at__in={k[1] for k in keys}
        ).values_list("pk", "company_id", "captured_at", "text__sha256")
    }
    reports: list[FileReport] = []
    to_create: list[tuple[FileReport, _Parsed]] = []
    for entry in batch:
        if isinstance(entry, FileReport):
            reports.append(entry)
            continue
        domain = domains[entry.header.domain]
        key = (domain.company_id, entry.header.captured_at)
        report = FileReport(
            entry.name,
            Outcome.NEW,
            warnings=entry.warnings,
            company=domain.company.slug,
            captured_at=entry.header.captured_at,
        )
        reports.append(report)
        if key not in existing:
            existing[key] = (None, entry.sha256)
            to_create.append((report, entry))
        elif existing[key][1] == entry.sha256:
            report.outcome, report.snapshot_id = Outcome.PRESENT, existing[key][0]
        else:
            report.outcome = Outcome.FAILED
            report.reason = (
                f"a different capture of {domain.company.slug} at "
                f"{entry.header.captured_at:%Y-%m-%d %H:%M:%S} UTC is already stored"
            )
    return reports, to_create


def _domains_for(names: set[str]) -> dict[str, Domain]:
    """Domain rows for the names, creating a company (slug = the domain) for each new one."""
    found = {d.name: d for d in Domain.objects.filter(name__in=names).select_related("company")}
    new = sorted(names - found.keys())
    if not new:
        return found
    # Three queries however many are new (a first import meets hundreds of companies per batch).
    companies = {company.slug: company for company in Company.objects.filter(slug__in=new)}
    missing = [Company(slug=name, name=name) for name in new if name not in companies]
    companies.update((company.slug, company) for company in Company.objects.bulk_create(missing))
    domains = [Domain(name=name, company=companies[name]) for name in new]
    found.update((domain.name, domain) for domain in Domain.objects.bulk_create(domains))
    return found


def _texts_for(parsed: list[_Parsed], deriver: Deriver) -> dict[str, PolicyText]:
    """PolicyText rows for the batch's bodies, creating each new text and its sections once."""
    wanted = {p.sha256: p for p in parsed}
    found = {
        t.sha256: t
        for t in PolicyText.objects.filter(sha256__in=wanted.keys()).only(
            "pk", "sha256", "page_title"
        )
    }
    missing = [p for sha, p in wanted.items() if sha not in found]
    if not missing:
        return found
    built = [build_text(p.body, p.sha256, deriver.derived(p.sha256, p.body)) for p in missing]
    created = PolicyText.objects.bulk_create([text for text, _ in built], batch_size=200)
    rows = []
    for text, (_, sections) in zip(created, built, strict=True):
        found[text.sha256] = text
        for section in sections:
            section.text = text
        rows.extend(sections)
    _insert(Section, rows)
    return found


def _insert(model, objects: list) -> None:
    """Insert unsaved rows whose primary keys nobody needs back: with COPY on PostgreSQL (a
    first pass writes about six rows per capture; COPY takes a fraction of the INSERTs' time),
    with bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=1000)
        return
    copy_models(model, objects)


def build_text(
    body: str, sha256: str | None = None, derived: DerivedPolicy | None = None
) -> tuple[PolicyText, list[Section]]:
    """An unsaved text for `body` and its unsaved sections (without their text yet), with what
    the reader derives from them: each section's readable text, the word count, the page title
    and the wording hash that decides "unchanged". `derived`: `derive_policy(body)` if already
    made (in the second process)."""
    derived = derived or derive_policy(body)
    sections, anchors = [], set()
    for position, (part, plain) in enumerate(derived.sections):
        anchor = part.anchor[:200]
        if anchor in anchors:  # truncation can collide; keep anchors unique within the text
            anchor = f"{anchor[:190]}-{position}"
        anchors.add(anchor)
        sections.append(
            Section(
                position=position,
                heading=part.heading,
                level=part.level,
                body=part.text,
                anchor=anchor,
                plain=plain,
            )
        )
    text = PolicyText(
        sha256=sha256 or hashlib.sha256(body.encode("utf-8")).hexdigest(),
        normalized_hash=derived.wording_hash,
        body=body,
        word_count=derived.word_count,
        page_title=derived.title[:1000],
        text_version=TEXT_VERSION,
    )
    return text, sections


def _record(reports: list[FileReport], run: ImportRun, first_position: int) -> None:
    _insert(
        ImportFileResult,
        [
            ImportFileResult(
                run=run,
                position=first_position + i,
                name=r.name[:2000],
                outcome=r.outcome,
                reason=r.reason,
                warnings="\n".join(r.warnings),
                snapshot_id=r.snapshot_id,
            )
            for i, r in enumerate(reports)
        ],
    )
    counts = dict.fromkeys(Outcome.values, 0)
    for r in reports:
        counts[r.outcome] += 1
    ImportRun.objects.filter(pk=run.pk).update(
        files_read=F("files_read") + len(reports),
        new_count=F("new_count") + counts[Outcome.NEW],
        unchanged_count=F("unchanged_count") + counts[Outcome.UNCHANGED],
        present_count=F("present_count") + counts[Outcome.PRESENT],
        failed_count=F("failed_count") + counts[Outcome.FAILED],
        updated_at=timezone.now(),  # the heartbeat that tells a live run from a dead worker
    )
