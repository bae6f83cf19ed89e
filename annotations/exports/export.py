"""Tags out of the database with full provenance (CSV, JSON Lines, JSON-LD), and back in.

One function, `export_chunks`, serves the download URLs and `manage.py export_annotations`: it
reads rows from a database cursor (`.iterator(chunk_size=...)` over `values_list`, so memory
stays flat however many rows) and yields text in chunks of `CHUNK_ROWS` rows.

- CSV: one row per tag per capture, columns `CSV_COLUMNS`. A text cell that starts with `=`,
  `+`, `-`, `@`, tab or carriage return gets a leading apostrophe (OWASP's advice against
  formula injection) unless `raw`; `excel` adds a byte-order mark.
- JSON Lines: one W3C Web Annotation per line, self-contained (each has its `@context`).
- JSON-LD: the same annotations as one `AnnotationCollection` document.

A Web Annotation targets the section of the archived capture (`source` = the Wayback URL with
the section's anchor) through a TextQuoteSelector and a TextPositionSelector (offsets into the
section's reader text), with a TimeState (`sourceDate` = the capture time, `cached` = the
Wayback URL); its body is the category (purpose "classifying") and the note, if any. Palimpsest's
own facts (company, capture, section, status, origin, attributes) are `pal:` terms.

Ids: an annotation's id is `urn:uuid:<Annotation.uuid>`, which `import_annotations_jsonl` keeps,
and a carried or proposed copy names its origin by that id. Database ids appear only in the CSV
(`annotation_id`, `carried from <annotation_id>`), so a JSON Lines file exported, imported into
an empty database and exported again is byte-for-byte the same.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import batched
from pathlib import Path
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, connections, router, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Func,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Concat

from annotations.lineage import follow as lineage
from annotations.models import Annotation, Campaign, Category
from annotations.tagging.tags import (
    TaggingError,
    TagRequest,
    create_tag,
    pages_changed_for,
    validate_span,
)
from policies.companies import unknown_companies
from policies.filters import CaptureFilters, FilterError, Params, param_value, param_values
from policies.models import Section, Snapshot
from policies.reading.reader import rendered_sections
from policies.spreadsheets import FormulaSafe

FORMATS = ("csv", "jsonl", "jsonld")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "jsonld": 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"; charset=utf-8',
}
CSV_COLUMNS = (
    "annotation_id",
    "company",
    "domain",
    "snapshot_date",
    "capture_timestamp",
    "archive_url",
    "section",
    "quote",
    "start",
    "end",
    "category",
    "attributes",
    "note",
    "annotator",
    "status",
    "origin",
    "created_at",
    "updated_at",
    "campaign",
    "layer",
)
CHUNK_ROWS = 2000
BOM = "\ufeff"
CONTEXT = ["http://www.w3.org/ns/anno.jsonld", {"pal": "urn:palimpsest:terms#"}]
CATEGORY_IRI = "urn:palimpsest:category:"

# Rows come out in an order that depends only on what is exported, not on database ids, so
# that two databases holding the same tags export the same file.
ORDER = (
    "snapshot__company__slug",
    "snapshot__captured_at",
    "section__position",
    "start",
    "end",
    "category__slug",
    "uuid",
)


class _UtcText(Func):
    """A datetime as UTC text, formatted by the database: parsing datetimes into Python and
    formatting them again costs more than the rest of a CSV row."""

    output_field = CharField()
    _POSTGRESQL = {
        "date": "YYYY-MM-DD",
        "timestamp": "YYYYMMDDHH24MISS",
        "iso": 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"',
    }
    # SQLite stores Django datetimes as UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    _SQLITE = {
        "date": "substr(%(expressions)s, 1, 10)",
        "timestamp": "replace(replace(replace(substr(%(expressions)s, 1, 19), '-', ''), ':', ''),"
        " ' ', '')",
        "iso": "replace(%(expressions)s, ' ', 'T') || CASE WHEN length(%(expressions)s) = 19 "
        "THEN '.000000' ELSE '' END || 'Z'",
    }

    def __init__(self, expression: str, style: str) -> None:
        super().__init__(F(expression))
        self.style = style

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template=self._SQLITE[self.style], **extra)

    def as_postgresql(self, compiler, connection, **extra):
        pattern = self._POSTGRESQL[self.style]
        template = f"to_char(%(expressions)s AT TIME ZONE 'UTC', '{pattern}')"
        return super().as_sql(compiler, connection, template=template, **extra)


def csv_fields(raw: bool) -> tuple:
    """What the CSV's columns are made of. Every value is formatted (and, unless `raw`,
    formula-escaped) by the database, so rows go to csv.writer as they come: no Python work
    per row beyond reading it."""
    text = str if raw else FormulaSafe
    return (
        "pk",
        text("snapshot__company__slug"),
        text("snapshot__domain__name"),
        _UtcText("snapshot__captured_at", "date"),
        _UtcText("snapshot__captured_at", "timestamp"),
        text("snapshot__archive_url"),
        text("section__anchor"),
        text("quote"),
        "start",
        "end",
        text("category__slug"),
        Cast("attributes", TextField()),  # the JSON as the database spells it
        text("note"),
        text("annotator__username"),
        "status",
        Case(
            When(suggestion__has_key="source", then=_SUGGESTION_ORIGIN),
            When(origin__isnull=True, then=Value("original")),
            default=Concat(Value("carried from "), Cast("origin_id", CharField())),
            output_field=CharField(),
        ),
        _UtcText("created_at", "iso"),
        _UtcText("updated_at", "iso"),
        Coalesce(text("campaign__slug"), Value(""), output_field=CharField()),
        "layer",
    )


@cache
def csv_rows(raw: bool) -> QuerySet[Annotation]:
    """Every tag as a row of `csv_fields(raw)` (the id first), to be filtered and sliced, never
    evaluated itself: made once per process, because resolving the fields' expressions costs
    a few milliseconds, a quarter of a page of tags in the API."""
    return Annotation.objects.values_list(*csv_fields(raw))


def csv_rows_of(ids: list[int], raw: bool) -> list[tuple]:
    """`csv_rows(raw)` of these tags, in id order (a page of the API's tags). On PostgreSQL the
    ids go as one array (`pk__any_of`), so the statement is the same for every page and is
    compiled once per process: compiling the fields' expressions cost 3-4 ms a page."""
    using = router.db_for_read(Annotation)
    if connections[using].vendor != "postgresql":
        return list(csv_rows(raw).filter(pk__any_of=ids).order_by("pk"))
    sql, params, at = _rows_of_statement(raw, using)
    params = [*params[:at], list(ids), *params[at + 1 :]]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@cache
def _rows_of_statement(raw: bool, using: str) -> tuple[str, tuple, int]:
    """The SQL of `csv_rows_of` on PostgreSQL, its parameters, and where the ids go among them
    (the one list). Its columns need no conversion in Python: every one is text, an integer
    or the status, as the database gives them."""
    query = csv_rows(raw).filter(pk__any_of=[]).order_by("pk").using(using)
    sql, params = query.query.sql_with_params()
    (at,) = [n for n, value in enumerate(params) if isinstance(value, list)]
    return sql, params, at


# A tag made by accepting a suggestion: where it came from, as `suggestions.origin_label`
# words it ("suggestion: same wording (1.0) as tag urn:uuid:… at a.example 2016-04-02").
_SUGGESTION_ORIGIN = Concat(
    Value("suggestion: "),
    Case(
        When(suggestion__source="wording", then=Value("same wording")),
        When(suggestion__source="near", then=Value("near-identical wording")),
        default=Value("category model"),
        output_field=CharField(),
    ),
    Case(
        When(
            suggestion__has_key="tag",
            then=Concat(
                Value(" ("), KT("suggestion__score"), Value(") as tag urn:uuid:"),
                KT("suggestion__tag"), Value(" at "), KT("suggestion__company"), Value(" "),
                KT("suggestion__captured"), output_field=CharField(),
            ),
        ),
        default=Concat(
            Value(" v"), KT("suggestion__model_version"), Value(" ("), KT("suggestion__score"),
            Value(")"), output_field=CharField(),
        ),
        output_field=CharField(),
    ),
    output_field=CharField(),
)  # fmt: skip

_JSON_FIELDS = (
    "uuid",
    "snapshot__company__slug",
    "snapshot__domain__name",
    "snapshot__captured_at",
    "snapshot__archive_url",
    "section__position",
    "section__anchor",
    "section__heading",
    "quote",
    "prefix",
    "suffix",
    "start",
    "end",
    "category__slug",
    "attributes",
    "note",
    "annotator__username",
    "status",
    "kind",
    "origin__uuid",
    "created_at",
    "updated_at",
    "campaign__slug",
    "layer",
    "suggestion",
)
LAYERS = ("gold", "annotators", "all")


# Exports hold active tags unless asked otherwise: a proposed copy awaits a reviewer, and a
# dismissed one was judged wrong. `status=any` (or every status named) exports them all.
DEFAULT_STATUSES = (Annotation.Status.ACTIVE.value,)
ANY_STATUS = "any"


def _statuses(params: Params) -> tuple[str, ...]:
    chosen = param_values(params, "status")
    if ANY_STATUS in chosen:
        return tuple(Annotation.Status.values)
    for status in chosen:
        if status not in Annotation.Status.values:
            choices = ", ".join([*Annotation.Status.values, ANY_STATUS])
            raise FilterError(f"status: one of {choices} (got {status[:40]!r})")
    return tuple(s for s in Annotation.Status.values if s in chosen) or DEFAULT_STATUSES


@dataclass(frozen=True)
class ExportFilters:
    """Which tags to export: the capture filters plus tag-level ones."""

    captures: CaptureFilters = field(default_factory=CaptureFilters)
    domains: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    annotator: str = ""
    origin: str = ""  # "original", or "carried" (carried and proposed copies)
    campaign: str = ""  # a campaign's slug
    layer: str = ""  # "gold", "annotators" or "all" ("" = all)
    # While a campaign runs, its annotators' tags are exported to curators only.
    running_campaigns: bool = False

    @classmethod
    def from_params(cls, params: Params, *, running_campaigns: bool = False) -> ExportFilters:
        """`company`, `domain`, `category`, `status` (repeatable or comma-separated; status
        active unless given, `any` for every status), `annotator`, `from`, `to`, `origin`
        (original|carried), `latest`, `campaign` (a slug), `layer` (gold|annotators|all).
        Refuses a company that does not exist, naming it and its close matches. Tags of running
        campaigns' annotators are left out unless `running_campaigns` (curators, commands)."""
        origin = param_value(params, "origin")
        if origin and origin not in {"original", "carried"}:
            raise FilterError("origin: original or carried")
        layer = param_value(params, "layer")
        if layer and layer not in LAYERS:
            raise FilterError(f"layer: one of {', '.join(LAYERS)} (got {layer[:40]!r})")
        filters = cls(
            captures=CaptureFilters.from_params(params),
            domains=tuple(d.lower() for d in param_values(params, "domain")),
            categories=param_values(params, "category"),
            statuses=_statuses(params),
            annotator=param_value(params, "annotator"),
            origin=origin,
            campaign=param_value(params, "campaign")[:80],
            layer=layer,
            running_campaigns=running_campaigns,
        )
        _check_companies(filters)
        return filters

    def q(self, *, statuses: bool = True) -> Q:
        """The condition on tags (without the statuses when `statuses` is false)."""
        condition = self.captures.q("snapshot__")
        if self.domains:
            condition &= Q(snapshot__domain__name__in=self.domains)
        if self.categories:
            condition &= Q(category__slug__in=self.categories)
        if statuses and set(self.statuses) != set(Annotation.Status.values):
            condition &= Q(status__in=self.statuses)
        if self.annotator:
            condition &= Q(annotator__username=self.annotator)
        if self.origin == "original":
            condition &= Q(kind=Annotation.Kind.ORIGINAL)
        elif self.origin == "carried":
            condition &= ~Q(kind=Annotation.Kind.ORIGINAL)
        if self.campaign:
            condition &= Q(campaign__slug=self.campaign)
        if self.layer == "gold":
            condition &= Q(layer=Annotation.Layer.GOLD)
        elif self.layer == "annotators":
            condition &= Q(layer=Annotation.Layer.ANNOTATOR)
        if not self.running_campaigns:
            # A handful of ids (one query), so a million-row export needs no join for this.
            running = list(
                Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list("pk", flat=True)
            )
            if running:
                condition &= ~Q(campaign_id__in=running, layer=Annotation.Layer.ANNOTATOR)
        return condition

    def queryset(self) -> QuerySet[Annotation]:
        """The matching tags, in export order."""
        return Annotation.objects.filter(self.q()).order_by(*ORDER)


class UnknownCompanies(FilterError):
    """Companies named in the filters that do not exist: `unknown` maps each to its close
    matches, `filters` are the rest of the request, parsed, for the form to keep."""

    def __init__(self, unknown: dict[str, list[str]], filters: ExportFilters) -> None:
        parts = []
        for slug, matches in unknown.items():
            hint = f" (did you mean {' or '.join(matches)}?)" if matches else ""
            parts.append(f"{slug!r}{hint}")
        plural = "companies" if len(parts) > 1 else "company"
        super().__init__(f"company: no {plural} called {'; '.join(parts)}.")
        self.unknown = unknown
        self.filters = filters


def _check_companies(filters: ExportFilters) -> None:
    if filters.captures.companies:
        unknown = unknown_companies(filters.captures.companies)
        if unknown:
            raise UnknownCompanies(unknown, filters)


@dataclass(frozen=True)
class StatusChoice:
    """One status on the export page: what it means, whether it is included, how many match."""

    value: str
    label: str
    meaning: str
    included: bool
    count: int | None  # None: not counted (the filters were refused)


_MEANINGS = {
    "active": "tagged on a capture, carried to an unchanged clause, or confirmed in review",
    "pending": "proposed where the tagged clause changed, not yet confirmed by a reviewer",
    "dismissed": "proposed, then judged wrong by a reviewer",
    "merged": "a copy that met the same tag on the same clause (kept for its history)",
}


def status_choices(filters: ExportFilters, *, counted: bool = True) -> list[StatusChoice]:
    """Every status with its meaning, whether the export includes it and (when `counted`) how
    many tags of it match the other filters (one query)."""
    counts = status_counts(filters) if counted else {}
    return [
        StatusChoice(
            value, label.lower(), _MEANINGS[value], value in filters.statuses, counts.get(value)
        )
        for value, label in Annotation.Status.choices
    ]


def describe_statuses(choices: list[StatusChoice]) -> str:
    """What an export holds, by status: "Included: active (3). Not included: pending review
    (1), dismissed (0)."."""

    def listed(items: list[StatusChoice]) -> str:
        return ", ".join(f"{c.label} ({c.count:,})" for c in items)

    included = [c for c in choices if c.included]
    excluded = [c for c in choices if not c.included]
    text = f"Included: {listed(included)}."
    return f"{text} Not included: {listed(excluded)}." if excluded else text


def count_annotations(filters: ExportFilters) -> int:
    """How many tags an export with these filters writes."""
    return filters.queryset().count()


def status_counts(filters: ExportFilters) -> dict[str, int]:
    """How many tags of each status match the other filters (one query), so the export page can
    say what each status choice adds."""
    rows = (
        Annotation.objects.filter(filters.q(statuses=False))
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(Annotation.Status.values, 0)
    counts.update(dict(rows))
    return counts


def annotation_rows(filters: ExportFilters, fields: tuple) -> Iterator[tuple]:
    """The tags as tuples of `fields`, streamed from a database cursor."""
    return filters.queryset().values_list(*fields).iterator(chunk_size=CHUNK_ROWS)


def export_chunks(
    filters: ExportFilters,
    fmt: str,
    *,
    raw: bool = False,
    excel: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The export as text chunks; `on_rows(n)` is called after each chunk of n rows."""
    if fmt == "csv" and connection.vendor == "postgresql":
        rows = filters.queryset().values_list(*csv_fields(raw))
        chunks = copy_csv_chunks(rows, excel=excel)
    elif fmt == "csv":
        chunks = csv_chunks(annotation_rows(filters, csv_fields(raw)), excel=excel)
    elif fmt == "jsonl":
        chunks = jsonl_chunks(annotation_rows(filters, _JSON_FIELDS))
    elif fmt == "jsonld":
        chunks = jsonld_chunks(annotation_rows(filters, _JSON_FIELDS))
    else:
        raise ValueError(f"format: one of {', '.join(FORMATS)}")
    # Inside a transaction the cursor streams rows as PostgreSQL produces them; in autocommit
    # Django declares it WITH HOLD, and PostgreSQL materialises the whole result before the
    # first row (10 s for 1,000,000 rows: long enough for a proxy to give up on a download).
    with transaction.atomic():
        for text, rows in chunks:
            if on_rows and rows:
                on_rows(rows)
            yield text


def export_filename(fmt: str) -> str:
    """The download's file name, dated."""
    return f"palimpsest-tags-{datetime.now(UTC):%Y-%m-%d}.{fmt}"


# --- CSV -------------------------------------------------------------------------------------


def _iso(moment: datetime, timespec: str = "microseconds") -> str:
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def csv_chunks(rows: Iterable[tuple], *, excel: bool = False) -> Iterator[tuple[str, int]]:
    """(text, row count) chunks of CSV from rows of `csv_fields()`, header first."""
    buffer = io.StringIO()
    # LF line ends, as PostgreSQL's COPY writes them, so both paths give the same file.
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    yield (BOM if excel else "") + buffer.getvalue(), 0
    for batch in batched(rows, CHUNK_ROWS):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(batch)
        yield buffer.getvalue(), len(batch)


def copy_csv_chunks(queryset: QuerySet, *, excel: bool = False) -> Iterator[tuple[str, int]]:
    """PostgreSQL: the same rows as `csv_chunks(queryset)`, but written by the database
    (COPY (SELECT ...) TO STDOUT WITH (FORMAT CSV)) and streamed as it writes them: about
    twice the rate of reading rows into Python (docs/benchmarks.md). The only
    difference in the file: an empty text cell is written "" rather than left empty."""
    yield from itertools.islice(csv_chunks((), excel=excel), 1)  # the header
    statement, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A cursor is planned for its first rows, COPY for its last: left alone, PostgreSQL
        # sorts every row before sending one (5 s for 1,000,000). Without explicit sorts it
        # walks the indexes in order (incremental sort) and the first rows leave at once, for
        # the same total time. SET LOCAL ends with export_chunks' transaction.
        cursor.execute("SET LOCAL enable_sort = off")
        copy_sql = f"COPY ({statement}) TO STDOUT WITH (FORMAT CSV)"
        with cursor.cursor.copy(copy_sql, params) as copy:
            rows: list[bytes] = []
            for row in copy:  # one message per row
                rows.append(bytes(row))
                if len(rows) == CHUNK_ROWS:
                    yield b"".join(rows).decode(), len(rows)
                    rows = []
            if rows:
                yield b"".join(rows).decode(), len(rows)


# --- Web Annotations -------------------------------------------------------------------------


def web_annotation(row: tuple) -> dict:
    """A row of `_JSON_FIELDS` as a W3C Web Annotation (without `@context`)."""
    (tag_uuid, company, domain, captured, archive_url, position, anchor, heading, quote) = row[:9]
    (prefix, suffix, start, end, category, attributes, note, annotator, status) = row[9:18]
    (kind, origin_uuid, created, updated, campaign, layer, suggestion) = row[18:]
    body: list[dict] = [
        {"type": "SpecificResource", "purpose": "classifying", "source": CATEGORY_IRI + category}
    ]
    if note:
        body.append({"type": "TextualBody", "purpose": "commenting", "value": note})
    annotation = {
        "id": f"urn:uuid:{tag_uuid}",
        "type": "Annotation",
        "motivation": "classifying",
        "created": _iso(created),
        "modified": _iso(updated),
        "body": body,
        "target": {
            "source": f"{archive_url}#{anchor}",
            "selector": [
                {"type": "TextQuoteSelector", "exact": quote, "prefix": prefix, "suffix": suffix},
                {"type": "TextPositionSelector", "start": start, "end": end},
            ],
            "state": {
                "type": "TimeState",
                "sourceDate": _iso(captured, "seconds"),
                "cached": archive_url,
            },
        },
        "pal:company": company,
        "pal:domain": domain,
        "pal:capture": captured.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
        "pal:section": {"position": position, "anchor": anchor, "heading": heading},
        "pal:attributes": dict(sorted((attributes or {}).items())),
        "pal:status": status,
        "pal:kind": kind,
        "pal:origin": f"urn:uuid:{origin_uuid}" if origin_uuid else None,
        "pal:campaign": campaign,
        "pal:layer": layer,
    }
    if suggestion:
        annotation["pal:suggestion"] = suggestion
    if annotator:
        annotation["creator"] = {"type": "Person", "nickname": annotator}
    return annotation


def _dumps(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def jsonl_chunks(rows: Iterable[tuple]) -> Iterator[tuple[str, int]]:
    """(text, row count) chunks of JSON Lines: one standalone Web Annotation per line."""
    for batch in batched(rows, CHUNK_ROWS):
        lines = (_dumps({"@context": CONTEXT, **web_annotation(row)}) for row in batch)
        yield "\n".join(lines) + "\n", len(batch)


def jsonld_chunks(rows: Iterable[tuple]) -> Iterator[tuple[str, int]]:
    """(text, row count) chunks of one JSON-LD AnnotationCollection holding every tag."""
    head = {"@context": CONTEXT, "type": "AnnotationCollection", "label": "Palimpsest tags"}
    yield _dumps(head)[:-1] + ',"items":[\n', 0
    separator = ""
    for batch in batched(rows, CHUNK_ROWS):
        text = ",\n".join(_dumps(web_annotation(row)) for row in batch)
        yield separator + text, len(batch)
        separator = ",\n"
    yield "\n]}\n", 0


# --- Import ----------------------------------------------------------------------------------


class LineError(ValueError):
    """A line that cannot be imported; the message says why."""


@dataclass(frozen=True)
class TagLine:
    """What an exported line says of one tag, checked for shape."""

    uuid: UUID
    company: str
    capture: datetime
    position: int
    anchor: str
    start: int
    end: int
    quote: str
    category: str
    attributes: dict
    note: str
    annotator: str
    status: str
    kind: str
    origin: UUID | None
    created: datetime
    modified: datetime
    suggestion: dict | None = None  # the accepted suggestion that made the tag


@dataclass
class ImportReport:
    created: int = 0
    present: int = 0  # a tag with this id is already in the database
    skipped: int = 0  # the same span already carries this category under another id
    failures: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _urn(value: object, what: str) -> UUID:
    if not isinstance(value, str) or not value.startswith("urn:uuid:"):
        raise LineError(f"{what} must be a urn:uuid: id (got {str(value)[:60]!r})")
    try:
        return UUID(value[9:])
    except ValueError as exc:
        raise LineError(f"{what} is not a valid UUID: {value[:60]!r}") from exc


def _moment(value: object, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise LineError(f"{what} is not an ISO 8601 time: {str(value)[:40]!r}") from exc
    if moment.tzinfo is None:
        raise LineError(f"{what} has no time zone: {value!r}")
    return moment


def _suggestion_record(value: object) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("source"), str):
        raise LineError('pal:suggestion must be an object with a "source"')
    return value


def parse_line(text: str) -> TagLine:
    """One JSON Lines export line as a `TagLine`; LineError says what is wrong with it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict) or data.get("type") != "Annotation":
        raise LineError('not a Web Annotation (no "type": "Annotation")')
    try:
        target, section = data["target"], data["pal:section"]
        selectors = {s["type"]: s for s in target["selector"]}
        quote, position = selectors["TextQuoteSelector"], selectors["TextPositionSelector"]
        classifying = [b for b in data["body"] if b.get("purpose") == "classifying"]
        notes = [b for b in data["body"] if b.get("purpose") == "commenting"]
        category = classifying[0]["source"]
        if not category.startswith(CATEGORY_IRI):
            raise LineError(f"the category must be a {CATEGORY_IRI}<slug> IRI")
        when = datetime.strptime(data["pal:capture"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        line = TagLine(
            uuid=_urn(data["id"], "id"),
            company=str(data["pal:company"]),
            capture=when,
            position=int(section["position"]),
            anchor=str(section["anchor"]),
            start=int(position["start"]),
            end=int(position["end"]),
            quote=str(quote["exact"]),
            category=category[len(CATEGORY_IRI) :],
            attributes=dict(data.get("pal:attributes") or {}),
            note=str(notes[0]["value"]) if notes else "",
            annotator=str((data.get("creator") or {}).get("nickname") or ""),
            status=str(data.get("pal:status") or Annotation.Status.ACTIVE),
            kind=str(data.get("pal:kind") or Annotation.Kind.ORIGINAL),
            origin=_urn(data["pal:origin"], "pal:origin") if data.get("pal:origin") else None,
            created=_moment(data["created"], "created"),
            modified=_moment(data.get("modified") or data["created"], "modified"),
            suggestion=_suggestion_record(data.get("pal:suggestion")),
        )
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise LineError(f"missing or malformed field {exc}") from exc
    except ValueError as exc:
        if isinstance(exc, LineError):
            raise
        raise LineError(str(exc)) from exc
    if line.status not in Annotation.Status.values:
        raise LineError(f"pal:status must be one of {', '.join(Annotation.Status.values)}")
    if line.kind not in Annotation.Kind.values:
        raise LineError(f"pal:kind must be one of {', '.join(Annotation.Kind.values)}")
    if (line.kind == Annotation.Kind.ORIGINAL) != (line.origin is None):
        raise LineError("an original tag has no pal:origin; a carried or proposed one has one")
    return line


class _Resolver:
    """Looks up captures, rendered sections, categories and users once per import."""

    def __init__(self, allow_unknown_annotators: bool) -> None:
        self.allow_unknown_annotators = allow_unknown_annotators
        self._snapshots: dict[tuple[str, datetime], Snapshot] = {}
        self._sections: dict[int, list[Section]] = {}
        self._categories = {c.slug: c for c in Category.objects.all()}
        self._users: dict[str, object] = {}

    def snapshot(self, line: TagLine) -> Snapshot:
        key = (line.company, line.capture)
        if key not in self._snapshots:
            found = (
                Snapshot.objects.select_related("company", "text")
                .defer("text__body")
                .filter(company__slug=line.company, captured_at=line.capture)
                .first()
            )
            if found is None:
                raise LineError(
                    f"no capture of {line.company} at {line.capture:%Y%m%d%H%M%S} in this "
                    "database (import the policies first)"
                )
            self._snapshots[key] = found
        return self._snapshots[key]

    def section(self, line: TagLine, snapshot: Snapshot) -> Section:
        if snapshot.text_id not in self._sections:
            self._sections[snapshot.text_id] = rendered_sections(snapshot.text)
        sections = self._sections[snapshot.text_id]
        if not 0 <= line.position < len(sections):
            raise LineError(
                f"the capture has {len(sections)} sections here; the line names section "
                f"{line.position}"
            )
        section = sections[line.position]
        if section.anchor != line.anchor:
            raise LineError(
                f"section {line.position} is #{section.anchor} here, #{line.anchor} in the file"
            )
        try:
            validate_span(section, line.start, line.end, line.quote)
        except TaggingError as exc:
            raise LineError(f"section #{line.anchor}: {exc}") from exc
        return section

    def category(self, line: TagLine) -> Category:
        if line.category not in self._categories:
            raise LineError(f"no category {line.category!r} in this database's taxonomy")
        return self._categories[line.category]

    def user(self, line: TagLine, warn: Callable[[str], None]):
        if not line.annotator:
            return None
        if line.annotator not in self._users:
            user = get_user_model().objects.filter(username=line.annotator).first()
            if user is None and not self.allow_unknown_annotators:
                raise LineError(
                    f"no user {line.annotator!r} here: create the account, or import with "
                    "--allow-unknown-annotators to leave the annotator empty"
                )
            self._users[line.annotator] = user
        user = self._users[line.annotator]
        if user is None:
            warn(f"annotator {line.annotator!r} unknown here: imported without an annotator")
        return user


def _import_original(line: TagLine, resolve: _Resolver, report: ImportReport, warn) -> None:
    snapshot = resolve.snapshot(line)
    section = resolve.section(line, snapshot)
    request = TagRequest(
        snapshot,
        section,
        line.start,
        line.end,
        line.quote,
        resolve.category(line),
        line.attributes,
        line.note,
        suggestion=line.suggestion,
    )
    # Restoring a recorded tag confirms no proposal: nobody reviewed anything.
    tag, created, _ = create_tag(request, resolve.user(line, warn), confirm_own_proposal=False)
    if not created:
        report.skipped += 1
        warn(f"the same span already has this category (tag urn:uuid:{tag.uuid}): skipped")
        return
    Annotation.objects.filter(pk=tag.pk).update(
        uuid=line.uuid, status=line.status, created_at=line.created, updated_at=line.modified
    )
    report.created += 1


def _import_copy(line: TagLine, resolve: _Resolver, report: ImportReport, warn) -> Annotation:
    origin = Annotation.objects.select_related("snapshot").filter(uuid=line.origin).first()
    if origin is None:
        raise LineError(
            f"its origin urn:uuid:{line.origin} is neither in this database nor in the file"
        )
    snapshot = resolve.snapshot(line)
    if snapshot.company_id != origin.snapshot.company_id:
        raise LineError("the origin is a tag of another company")
    section = resolve.section(line, snapshot)
    prefix, suffix = lineage.context_around(section.plain, line.start, line.end)
    values = {
        "section": section,
        "start": line.start,
        "end": line.end,
        "quote": line.quote,
        "prefix": prefix,
        "suffix": suffix,
        "category": resolve.category(line),
        "attributes": line.attributes,
        "note": line.note,
        "annotator": resolve.user(line, warn),
        "kind": line.kind,
        "status": line.status,
        "origin_quote": origin.quote if line.kind == Annotation.Kind.PROPOSED else "",
        "uuid": line.uuid,
    }
    # Lineage usually re-created this copy when the origin was imported: update it in place.
    copy = Annotation.objects.filter(origin=origin, snapshot=snapshot).first()
    if copy is None:
        copy = Annotation.objects.create(snapshot=snapshot, origin=origin, **values)
    else:
        Annotation.objects.filter(pk=copy.pk).update(**values)
    Annotation.objects.filter(pk=copy.pk).update(created_at=line.created, updated_at=line.modified)
    report.created += 1
    return origin


def import_annotations_jsonl(
    path: Path | str,
    *,
    allow_unknown_annotators: bool = False,
    on_line: Callable[[], None] | None = None,
) -> ImportReport:
    """Re-create the tags of a JSON Lines export on a database that holds the same captures.

    Original tags are created first (each through `create_tag`, so lineage re-creates their
    carried and proposed copies), then the copies in the file are matched to those (or created)
    and given the file's ids, status and times. Each line is imported in its own transaction;
    a line that fails (no such capture, a section or quote that differs, an unknown category
    or user) is reported with its number and the others go on. Lines whose id is already in
    the database are counted as present, so importing a file twice adds nothing.
    """
    report = ImportReport()
    resolve = _Resolver(allow_unknown_annotators)
    touched: dict[int, Annotation] = {}
    for copies in (False, True):
        with open(path, encoding="utf-8-sig") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    line = parse_line(text)
                except LineError as exc:
                    if not copies:  # report shape errors once, in the first pass
                        report.failures.append((number, str(exc)))
                        if on_line:
                            on_line()
                    continue
                if (line.kind != Annotation.Kind.ORIGINAL) != copies:
                    continue
                _import_line(line, number, copies, resolve, report, touched)
                if on_line:
                    on_line()
    if touched:
        lineage.refresh_events(list(touched.values()))
    return report


def _import_line(
    line: TagLine,
    number: int,
    copies: bool,
    resolve: _Resolver,
    report: ImportReport,
    touched: dict[int, Annotation],
) -> None:
    def warn(message: str) -> None:
        report.warnings.append((number, message))

    if Annotation.objects.filter(uuid=line.uuid).exists():
        report.present += 1
        return
    try:
        with transaction.atomic():
            if copies:
                origin = _import_copy(line, resolve, report, warn)
                touched[origin.pk] = origin
                pages_changed_for([origin.snapshot_id])
            else:
                _import_original(line, resolve, report, warn)
    except LineError as exc:
        report.failures.append((number, str(exc)))
    except IntegrityError:
        report.failures.append((number, "conflicts with a tag already in the database"))
