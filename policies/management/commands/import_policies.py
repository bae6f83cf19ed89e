"""`manage.py import_policies PATH [PATH ...]`: an adapter over `policies.importing.importer`."""

from __future__ import annotations

import json
import re

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from policies.importing.corpus import CorpusFormatError, parse_capture_time
from policies.importing.importer import FileReport, import_paths

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: str) -> int:
    """'5MB', '500k', '1048576' -> bytes (binary units)."""
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"not a size: {value!r} (try 5MB or 500KB)")
    unit = (match.group(2) or "").lower()[:1]
    return int(float(match.group(1)) * _UNITS[unit])


class Command(BaseCommand):
    help = (
        "Import privacy-policy captures from files, folders, .zip/.tar.gz archives or a clone "
        "of the Princeton-Leuven corpus git repository."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--domain", help="domain for files without a header line")
        parser.add_argument(
            "--captured-at",
            help="capture time for files without a header (YYYY-MM-DD or 14-digit timestamp)",
        )
        parser.add_argument("--dry-run", action="store_true", help="validate, write nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON line per file")
        parser.add_argument("--max-file-size", help="per-file size cap, e.g. 5MB (default 5MB)")
        parser.add_argument("--max-archive-size", help="decompressed size cap per archive")
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, **options) -> None:
        try:
            captured_at = (
                parse_capture_time(options["captured_at"]) if options["captured_at"] else None
            )
            max_file = parse_size(options["max_file_size"]) if options["max_file_size"] else None
            max_archive = (
                parse_size(options["max_archive_size"]) if options["max_archive_size"] else None
            )
        except (CorpusFormatError, ValueError) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        domain = (options["domain"] or "").strip().lower() or None

        bar = tqdm(
            desc="importing",
            unit=" files",
            file=self.stderr._out,
            disable=True if options["no_progress"] else None,
            dynamic_ncols=True,
        )

        def on_file(report: FileReport) -> None:
            bar.update(1)
            if options["json"]:
                self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))

        try:
            summary = import_paths(
                options["paths"],
                domain=domain,
                captured_at=captured_at,
                dry_run=options["dry_run"],
                max_file_bytes=max_file,
                max_archive_bytes=max_archive,
                on_file=on_file,
            )
        finally:
            bar.close()

        out = self.stderr if options["json"] else self.stdout
        prefix = "Dry run, nothing written. " if summary.dry_run else ""
        out.write(
            f"{prefix}Files read: {summary.files_read}, new captures: {summary.new}, "
            f"unchanged captures: {summary.unchanged}, already present: {summary.present}, "
            f"failed: {summary.failed}."
        )
        for failure in summary.failures:
            out.write(f"  FAILED {failure.name}: {failure.reason}")
        if summary.run_id:
            out.write(f"Recorded as import run #{summary.run_id}.")
        if not summary.ok:
            raise CommandError(f"{summary.failed} file(s) failed to import.", returncode=1)
