"""`manage.py import_annotations FILE.jsonl`: a thin adapter over `annotations.exports.export`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.exports.export import import_annotations_jsonl


class Command(BaseCommand):
    help = (
        "Re-create the tags of a JSON Lines export (export_annotations --format jsonl) on a "
        "database that holds the same captures. Each line is imported on its own; failed lines "
        "are reported by number and the command exits 1."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--allow-unknown-annotators",
            action="store_true",
            help="import tags whose annotator has no account here without an annotator",
        )
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, **options) -> None:
        bar = tqdm(
            unit=" lines",
            file=self.stderr._out,
            disable=True if options["no_progress"] else None,
            dynamic_ncols=True,
        )
        try:
            report = import_annotations_jsonl(
                options["file"],
                allow_unknown_annotators=options["allow_unknown_annotators"],
                on_line=bar.update,
            )
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}", returncode=2) from exc
        finally:
            bar.close()
        for number, message in report.warnings:
            self.stderr.write(f"  line {number}: warning: {message}")
        for number, message in report.failures:
            self.stderr.write(f"  line {number}: FAILED: {message}")
        self.stdout.write(
            f"Tags created: {report.created}, already present: {report.present}, "
            f"skipped (span already tagged): {report.skipped}, failed: {len(report.failures)}."
        )
        if not report.ok:
            raise CommandError(f"{len(report.failures)} line(s) failed to import.", returncode=1)
