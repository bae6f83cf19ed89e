"""`manage.py create_campaign SLUG --annotators rita,rosa --companies a.example,b.example`: an
adapter over `annotations.campaigns.campaigns.create_campaign`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotations.campaigns.campaigns import CampaignError, CampaignSpec, create_campaign
from policies.filters import FilterError, parse_period


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


class Command(BaseCommand):
    help = "Create an annotation campaign and share its captures out among its annotators."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--annotators", required=True, help="usernames, comma-separated")
        parser.add_argument("--companies", default="", help="company slugs, comma-separated")
        parser.add_argument("--from", dest="start", default="", help="YYYY, YYYY-MM or a date")
        parser.add_argument("--to", dest="end", default="", help="inclusive, same forms")
        parser.add_argument("--per-capture", type=int, default=3)
        parser.add_argument("--categories", default="", help="slugs; default: every category")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--blind", dest="blind", action="store_true", default=True)
        group.add_argument("--open", dest="blind", action="store_false")
        parser.add_argument(
            "--suggestions", action="store_true", help="show annotators suggested categories"
        )

    def handle(self, *args, **options) -> None:
        try:
            start = parse_period(options["start"], "--from")[0] if options["start"] else None
            end = parse_period(options["end"], "--to")[1] if options["end"] else None
            campaign = create_campaign(
                CampaignSpec(
                    slug=options["slug"],
                    name=options["name"],
                    annotators=_names(options["annotators"]),
                    companies=_names(options["companies"]),
                    captured_from=start,
                    captured_before=end,
                    per_capture=options["per_capture"],
                    blind=options["blind"],
                    suggestions=options["suggestions"],
                    categories=_names(options["categories"]),
                )
            )
        except (CampaignError, FilterError) as exc:
            raise CommandError(str(exc)) from exc
        count = campaign.assignments.values("snapshot").distinct().count()
        self.stdout.write(
            f"Campaign {campaign.slug}: {count} capture(s), {campaign.per_capture} annotator(s) "
            f"each, {'blind' if campaign.blind else 'open'}."
        )
