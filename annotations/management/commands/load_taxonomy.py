"""`manage.py load_taxonomy FILE`: load categories and attributes from YAML or JSON."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotations.models import Attribute, AttributeValue, Category
from annotations.taxonomy import TaxonomyError, install_taxonomy, read_taxonomy
from policies.models import Company


class Command(BaseCommand):
    help = "Load a taxonomy (categories, attributes, values) from a YAML or JSON file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")

    def handle(self, *args, **options) -> None:
        try:
            spec = read_taxonomy(options["file"])
        except TaxonomyError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        with transaction.atomic():
            install_taxonomy(spec, Category, Attribute, AttributeValue)
            Company.objects.pages_changed()  # tags show their category's name everywhere
        self.stdout.write(
            f"Loaded {spec.name}: {len(spec.categories)} categories, "
            f"{len(spec.attributes)} attributes."
        )
