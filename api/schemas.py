"""The shapes of the API's answers, as the OpenAPI schema publishes them.

Every shape is a plain pydantic model (`Record`), not ninja's `Schema`: the views hand over dicts
(`api.records`), which pydantic validates natively, whereas a `Schema` reads each field of each
row through a Python getter (DjangoGetter): a fifth of a page of 200 tags went there."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any, get_type_hints

from pydantic import BaseModel, create_model

from annotations.campaigns.agreement import AgreementRow
from annotations.exports.export import CSV_COLUMNS
from policies.comparing.diffing import AlignedRow, SectionDiff


class Record(BaseModel):
    """An answer, or a part of one, validated from the dict `api.records` builds."""


class Problem(Record):
    """Every error: what went wrong, and the parameter at fault when there is one."""

    message: str
    parameter: str | None = None


class PolicyNotFound(Problem):
    """No capture in force: `first_capture` is the company's first capture date, if any."""

    first_capture: date | None = None


class Company(Record):
    slug: str
    name: str
    domains: list[str]
    capture_count: int
    first_capture: datetime | None
    last_capture: datetime | None
    url: str
    captures_url: str
    html_url: str


class Capture(Record):
    company: str
    date: date
    timestamp: str
    captured_at: datetime
    archive_url: str
    domain: str
    page_title: str
    words: int
    previous_timestamp: str | None
    words_added: int | None
    words_removed: int | None
    unchanged: bool
    url: str
    html_url: str
    comparison_url: str | None


class Section(Record):
    position: int
    heading: str
    level: int
    anchor: str
    markdown: str
    text: str
    words: int
    html: str | None


class CaptureWithSections(Capture):
    sections: list[Section]


class Policy(CaptureWithSections):
    at: date


class Part(Record):
    op: str
    text: str


def _fields(cls: type, *, without: tuple[str, ...]) -> dict[str, Any]:
    """A dataclass's fields as pydantic fields (the diff's own definitions, not a copy)."""
    hints = get_type_hints(cls)
    return {f.name: (hints[f.name], ...) for f in fields(cls) if f.name not in without}


# A comparison: the diff's rows and summary as `diffing` defines them; parts as {op, text}.
Row = create_model(
    "Row",
    __base__=Record,
    old_parts=(list[Part], ...),
    new_parts=(list[Part], ...),
    **_fields(AlignedRow, without=("old_parts", "new_parts")),
)
Comparison = create_model(
    "Comparison",
    __base__=Record,
    old=(Capture, ...),
    new=(Capture, ...),
    rows=(list[Row], ...),  # type: ignore[valid-type]
    **_fields(SectionDiff, without=("rows",)),
)


# A tag: the export's CSV columns, in their order (one field list, `CSV_COLUMNS`).
_TAG_TYPES: dict[str, Any] = {
    "annotation_id": int,
    "start": int,
    "end": int,
    "attributes": dict[str, Any],
}
Tag = create_model(
    "Tag", __base__=Record, **{name: (_TAG_TYPES.get(name, str), ...) for name in CSV_COLUMNS}
)


class Hit(Record):
    heading: str
    snippet_html: str
    captures: int
    first_captured: datetime
    last_captured: datetime
    rank: float
    html_url: str
    first_html_url: str


class CompanyHits(Record):
    company: str
    name: str
    html_url: str
    hits: list[Hit]


class SearchResults(Record):
    query: str
    message: str
    full_text: bool
    truncated: bool
    companies: list[CompanyHits]


class CompanyPage(Record):
    items: list[Company]
    next_cursor: str | None
    next: str | None


class CapturePage(Record):
    items: list[Capture]
    next_cursor: str | None
    next: str | None


class TagPage(Record):
    items: list[Tag]  # type: ignore[valid-type]
    next_cursor: str | None
    next: str | None


class TrendSeason(Record):
    season: str
    first_day: date
    last_day: date
    captures: int
    companies: int
    words_q1: float | None
    words_median: float | None
    words_q3: float | None
    tagged: int


class TrendShare(Record):
    season: str
    count: int
    of: int
    share: float | None


class TrendSeries(Record):
    key: str
    label: str
    points: list[TrendShare]


class Trends(Record):
    """Per half-year: the corpus (or the chosen companies), the share of policies matching each
    query, and the share of tagged policies carrying each category."""

    companies: list[str]
    first: str | None
    last: str | None
    seasons: list[TrendSeason]
    queries: list[TrendSeries]
    categories: list[TrendSeries]
    csv_url: str
    html_url: str


# A campaign's agreement per category: the statistics' own fields (`agreement.AgreementRow`).
AgreementFigures = create_model(
    "AgreementFigures", __base__=Record, name=(str, ...), **_fields(AgreementRow, without=())
)


class Agreement(Record):
    campaign: str
    name: str
    unit: str
    rows: list[AgreementFigures]  # type: ignore[valid-type]
    csv_url: str
    html_url: str
