"""Index every policy text's clauses by their wording (the first time, or after an upgrade)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from annotations.suggesting import index


class Command(BaseCommand):
    help = "Index the clauses of every text not yet in the wording index (--all: every text)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="index every text again")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        if options["all"]:
            from policies.models import PolicyText

            texts = list(PolicyText.objects.values_list("pk", flat=True))
        else:
            texts = index.pending_texts()
        clauses = index.index_texts(texts)
        tagged = index.index_new_tags()
        self.stdout.write(
            f"Indexed {clauses:,} clauses of {len(texts):,} texts and {tagged:,} tagged clauses "
            f"in {time.perf_counter() - started:.1f} s."
        )
