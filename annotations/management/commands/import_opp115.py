"""`manage.py import_opp115 PATH`: the OPP-115 release (folder or .zip) as the campaign
`opp-115`; an adapter over `annotations.campaigns.opp115_import`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotations.campaigns.opp115 import Opp115Error
from annotations.campaigns.opp115_import import SLUG, import_opp115


class Command(BaseCommand):
    help = "Import the OPP-115 corpus (sanitized policies, annotations, documentation)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options) -> None:
        try:
            report = import_opp115(path)
        except Opp115Error as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{SLUG}: {len(report.imported)} policies imported, {len(report.present)} already "
            f"present, {len(report.skipped)} skipped; {report.tags} tags "
            f"({report.duplicates} duplicates kept once)."
        )
        counted = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
        self.stdout.write(f"spans: {counted}")
        for line in [*report.skipped, *report.problems]:
            self.stdout.write(f"  {line}")
