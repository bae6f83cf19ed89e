"""`manage.py export_annotations`: a thin adapter over `annotations.exports.export`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict
from tqdm import tqdm

from annotations.exports.export import (
    ANY_STATUS,
    FORMATS,
    LAYERS,
    ExportFilters,
    count_annotations,
    export_chunks,
)
from annotations.models import Annotation
from policies.filters import FilterError

_REPEATABLE = ("company", "domain", "category", "status")
_SINGLE = ("annotator", "from", "to", "origin", "campaign", "layer")


class Command(BaseCommand):
    help = (
        "Export tags with their provenance as CSV, JSON Lines (W3C Web Annotations, one per "
        "line, what import_annotations reads) or a JSON-LD AnnotationCollection."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        for name in ("company", "domain", "category"):
            parser.add_argument(f"--{name}", action="append", default=[], help="repeatable")
        parser.add_argument(
            "--status",
            action="append",
            default=[],
            choices=[*Annotation.Status.values, ANY_STATUS],
            help="repeatable; active unless given (as on the export page), any: every status",
        )
        parser.add_argument("--annotator", help="username")
        parser.add_argument("--from", help="first capture date (2015-06-01, 2015-06 or 2015)")
        parser.add_argument("--to", help="last capture date, inclusive")
        parser.add_argument("--origin", choices=["original", "carried"])
        parser.add_argument("--campaign", help="a campaign's slug")
        parser.add_argument("--layer", choices=LAYERS, help="gold, annotators or all")
        parser.add_argument("--latest", action="store_true", help="latest capture only")
        parser.add_argument("--raw", action="store_true", help="CSV: no formula escaping")
        parser.add_argument("--excel", action="store_true", help="CSV: add a byte-order mark")
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, **options) -> None:
        params = QueryDict(mutable=True)
        for name in _REPEATABLE:
            params.setlist(name, options[name])
        for name in _SINGLE:
            if options[name]:
                params[name] = options[name]
        if options["latest"]:
            params["latest"] = "1"
        try:
            filters = ExportFilters.from_params(params, running_campaigns=True)
        except FilterError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        to_file = bool(options["output"]) and options["output"] != "-"
        bar = tqdm(
            total=count_annotations(filters) if to_file and not options["no_progress"] else None,
            unit=" tags",
            file=self.stderr._out,
            disable=not to_file or options["no_progress"],
            dynamic_ncols=True,
        )
        chunks = export_chunks(
            filters,
            options["format"],
            raw=options["raw"],
            excel=options["excel"],
            on_rows=bar.update,
        )
        try:
            if to_file:
                with open(options["output"], "w", encoding="utf-8", newline="") as out:
                    out.writelines(chunks)
            else:
                self.stdout._out.writelines(chunks)
                self.stdout.flush()
        finally:
            bar.close()
        if to_file:
            self.stderr.write(f"Wrote {bar.n:,} tags to {options['output']}.")
