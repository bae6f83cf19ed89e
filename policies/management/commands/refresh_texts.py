"""`manage.py refresh_texts`: bring stored texts up to the current text derivation (after an
upgrade that bumped policies.reading.text.TEXT_VERSION); an adapter over `reader.refresh_texts`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from policies.reading.reader import refresh_texts


class Command(BaseCommand):
    help = (
        "Derive sections' readable text, word counts and 'unchanged' again for texts made by an "
        "older version, re-anchoring the tags on them; lists tags that could not be re-anchored."
    )

    def handle(self, *args, **options) -> None:
        report = refresh_texts()
        self.stdout.write(
            f"{report.texts} text(s) refreshed, {report.sections_changed} section(s) changed, "
            f"{len(report.unanchored)} tag(s) could not be re-anchored."
        )
        for problem in report.unanchored:
            self.stdout.write(f"  {problem}")
