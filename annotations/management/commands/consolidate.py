"""`manage.py consolidate SLUG --rule majority|union|unanimous`: let a rule write gold wherever
curators have not decided."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotations.campaigns.adjudication import consolidate
from annotations.models import Campaign


class Command(BaseCommand):
    help = "Write a campaign's gold layer by a rule, leaving curators' decisions as they are."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--rule", choices=Campaign.Rule.values, default=None)

    def handle(self, *args, slug: str, rule: str | None, **options) -> None:
        campaign = Campaign.objects.filter(slug=slug).first()
        if campaign is None:
            raise CommandError(f"no campaign {slug!r}")
        counts = consolidate(campaign, rule or campaign.rule)
        self.stdout.write(
            f"{campaign.slug}: {counts['accepted']} accepted into gold, {counts['rejected']} "
            f"rejected, {counts['already decided']} decided before (by curators or a rule)."
        )
