"""`manage.py train_suggester [--labels auto|gold|active]`: train a new version of the
category model now (in this process); an adapter over `annotations.suggesting.model.train`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotations.suggesting.examples import LABELS
from annotations.suggesting.model import train


class Command(BaseCommand):
    help = "Train a new version of the suggestions' category model on the accepted tags."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--labels", choices=LABELS, default="auto")

    def handle(self, *args, labels: str, **options) -> None:
        row = train(labels)
        if row.status != row.Status.READY:
            raise CommandError(f"version {row.version} failed: {row.error}")
        clause = row.evaluation.get("clause", {}).get("macro_f1")
        section = row.evaluation.get("section", {}).get("macro_f1")
        self.stdout.write(
            f"version {row.version} ready in {row.seconds:.1f} s: {row.tags} tags on "
            f"{row.gold_captures} gold and {row.active_captures} other captures; "
            f"{row.sections} sections, {row.clauses} clauses, {row.negatives} rejections; "
            f"{row.size / 1e6:.1f} MB. Held-out macro-F1 (thresholds tuned on it): clauses "
            f"{_figure(clause)}, sections {_figure(section)}."
        )


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
