"""`manage.py evaluate_suggestions --campaign SLUG --labels majority|gold --folds 5 [--json]`:
company-grouped cross-validation of the category model at section level, next to the issue's
baseline on the same folds; an adapter over `annotations.suggesting.evaluation`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from annotations.models import Campaign
from annotations.suggesting.evaluation import LABELS, EvaluationError, evaluate_campaign


class Command(BaseCommand):
    help = "Cross-validate the category model on a campaign's labels, grouped by company."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--campaign", required=True)
        parser.add_argument("--labels", choices=LABELS, default="majority")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--json", action="store_true", help="one JSON object")

    def handle(self, *args, campaign: str, labels: str, folds: int, **options) -> None:
        found = Campaign.objects.filter(slug=campaign).first()
        if found is None:
            raise CommandError(f"no campaign {campaign!r}")
        if folds < 2:
            raise CommandError("--folds must be at least 2")
        try:
            evaluation = evaluate_campaign(found, labels, folds)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(evaluation.as_dict()))
            return
        self.stdout.write(
            f"{evaluation.campaign}, labels {labels}: {evaluation.sections} sections of "
            f"{evaluation.companies} companies, {folds} folds grouped by company "
            f"({evaluation.seconds:.1f} s)"
        )
        self.stdout.write(f"{'category':40} {'P':>6} {'R':>6} {'F1':>6}   baseline F1")
        for slug, row in evaluation.model.categories.items():
            base = evaluation.baseline.categories[slug]
            self.stdout.write(
                f"{slug:40} {row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f}"
                f"   {base['f1']:6.3f}   ({row['support']} sections)"
            )
        self.stdout.write(
            f"{'macro F1':40} {'':6} {'':6} {_figure(evaluation.model.macro_f1):>6}"
            f"   {_figure(evaluation.baseline.macro_f1):>6}"
        )


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
