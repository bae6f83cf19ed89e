"""`manage.py agreement SLUG [--unit section|clause] [--json]`: the agreement page's table."""

from __future__ import annotations

import csv
import json

from django.core.management.base import BaseCommand, CommandError

from annotations.campaigns.adjudication import UNITS, agreement
from annotations.campaigns.reports import AGREEMENT_COLUMNS, agreement_record
from annotations.models import Campaign


class Command(BaseCommand):
    help = "Print a campaign's agreement per category (Fleiss' kappa, Krippendorff's alpha, %)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--unit", choices=UNITS, default="section")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")

    def handle(self, *args, slug: str, unit: str, **options) -> None:
        campaign = Campaign.objects.filter(slug=slug).first()
        if campaign is None:
            raise CommandError(f"no campaign {slug!r}")
        rows, _ = agreement(campaign, unit=unit)
        records = [agreement_record(row, unit) for row in rows]
        if options["json"]:
            for record, row in zip(records, rows, strict=True):
                line = dict(zip(AGREEMENT_COLUMNS, record, strict=True)) | {"note": row.note}
                self.stdout.write(json.dumps(line))
            return
        writer = csv.writer(self.stdout)
        writer.writerow(AGREEMENT_COLUMNS)
        writer.writerows(records)
