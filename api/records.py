"""What the API sends: companies, captures, sections, comparisons, tags and search results as
plain JSON-ready dicts, each built from the one place that knows the fact (change sizes from
`comparison.change_sizes`, "unchanged" from `Snapshot.unchanged`, readable text from
`Section.plain`, tag columns from the export)."""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import cache
from urllib.parse import quote

from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils.http import RFC3986_SUBDELIMS

from annotations.exports.export import CSV_COLUMNS
from policies.comparing.comparison import change_sizes
from policies.comparing.diffing import SectionDiff
from policies.models import Company, Section, Snapshot
from policies.reading.text import count_words
from policies.searching.search import SearchResults
from policies.trends.trends import Trends


def _absolute(request: HttpRequest, name: str, *args: str) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


# Markers that satisfy the company converter and the capture token's pattern, unlike any path.
_SLUG_MARK = quote("\ue000", safe=RFC3986_SUBDELIMS + "/~:@")
_TOKEN_MARKS = ("90000000000001", "90000000000002")


@cache
def _template(name: str, arity: int, prefix: str) -> str:
    """The route's path with markers for a company slug and up to two capture tokens: a page of
    50 companies or captures needs 150 URLs, and `reverse` is slow enough to matter."""
    return reverse(name, args=["\ue000", *_TOKEN_MARKS[: arity - 1]])


def _company_url(request: HttpRequest, name: str, slug: str, *tokens: str) -> str:
    """`_absolute(request, name, slug, *tokens)` from the route's cached template."""
    path = _template(name, 1 + len(tokens), get_script_prefix())
    for mark, token in zip(_TOKEN_MARKS, tokens, strict=False):
        path = path.replace(mark, token)
    path = path.replace(_SLUG_MARK, quote(slug, safe=RFC3986_SUBDELIMS + "/~:@"))
    return _origin(request) + path


def _origin(request: HttpRequest) -> str:
    """The request's scheme://host, worked out once per request: `get_host` checks the host
    against ALLOWED_HOSTS each time, and a page of 50 captures holds 150 URLs."""
    origin = getattr(request, "_api_origin", None)
    if origin is None:
        origin = request._api_origin = f"{request.scheme}://{request.get_host()}"
    return origin


def company_record(request: HttpRequest, company: Company) -> dict:
    """A company with its domains (prefetched) and capture statistics."""
    return {
        "slug": company.slug,
        "name": company.name,
        "domains": [domain.name for domain in company.domains.all()],
        "capture_count": company.capture_count,
        "first_capture": company.first_capture,
        "last_capture": company.last_capture,
        "url": _company_url(request, "api:company", company.slug),
        "captures_url": _company_url(request, "api:company_captures", company.slug),
        "html_url": _company_url(request, "company_detail", company.slug),
    }


def capture_records(request: HttpRequest, snapshots: list[Snapshot]) -> list[dict]:
    """Captures (from `Snapshot.objects.with_previous()`, with their text and domain) with the
    change since each one's previous capture: one query for the cached sizes, two more for any
    not compared yet."""
    pairs = {(s.previous_text_id, s.text_id) for s in snapshots if s.previous_text_id is not None}
    sizes = change_sizes(pairs)
    return [_capture(request, s, sizes) for s in snapshots]


def _capture(request: HttpRequest, snapshot: Snapshot, sizes: dict) -> dict:
    slug, first = snapshot.company.slug, snapshot.previous_text_id is None
    added, removed = sizes.get((snapshot.previous_text_id, snapshot.text_id), (0, 0))
    previous = None if first else f"{snapshot.previous_captured_at:%Y%m%d%H%M%S}"
    return {
        "company": slug,
        "date": snapshot.captured_at.date(),
        "timestamp": snapshot.timestamp,
        "captured_at": snapshot.captured_at,
        "archive_url": snapshot.archive_url,
        "domain": snapshot.domain.name,
        "page_title": snapshot.page_title,
        "words": snapshot.text.word_count,
        "previous_timestamp": previous,
        "words_added": None if first else added,
        "words_removed": None if first else removed,
        # The one meaning of "unchanged": the same wording as the previous capture.
        "unchanged": not first and snapshot.unchanged,
        "url": _company_url(request, "api:capture", slug, snapshot.timestamp),
        "html_url": _company_url(request, "snapshot_detail", slug, snapshot.timestamp),
        "comparison_url": (
            None
            if first
            else _company_url(request, "api:comparison", slug, previous, snapshot.timestamp)
        ),
    }


def section_records(sections: list[Section], *, html: bool) -> list[dict]:
    """A capture's sections: the Markdown, the readable text (`Section.plain`), its word count
    and, when asked (and rendered), the reader's HTML."""
    return [
        {
            "position": s.position,
            "heading": s.heading,
            "level": s.level,
            "anchor": s.anchor,
            "markdown": s.body,
            "text": s.plain,
            "words": count_words(s.plain),
            "html": s.html if html else None,
        }
        for s in sections
    ]


def comparison_record(diff: SectionDiff) -> dict:
    """A comparison's summary and its aligned rows, each side's parts as {op, text}."""
    data = asdict(diff)
    for row in data["rows"]:
        for side in ("old_parts", "new_parts"):
            row[side] = [{"op": op, "text": text} for op, text in row[side]]
    return data


def tag_record(row: tuple) -> dict:
    """A row of the export's CSV fields (raw) as the CSV's columns; attributes as an object."""
    record = dict(zip(CSV_COLUMNS, row, strict=True))
    record["attributes"] = json.loads(record["attributes"] or "{}") or {}
    return record


def search_record(request: HttpRequest, results: SearchResults) -> dict:
    """Search results grouped by company, best first; snippets are HTML with <mark>."""
    return {
        "query": results.query,
        "message": results.message,
        "full_text": results.full_text,
        "truncated": results.truncated,
        "companies": [
            {
                "company": group.slug,
                "name": group.name,
                "html_url": request.build_absolute_uri(group.url),
                "hits": [
                    {
                        "heading": hit.heading,
                        "snippet_html": str(hit.snippet),
                        "captures": hit.captures,
                        "first_captured": hit.first_captured,
                        "last_captured": hit.last_captured,
                        "rank": hit.rank,
                        "html_url": request.build_absolute_uri(hit.url),
                        "first_html_url": request.build_absolute_uri(hit.first_url),
                    }
                    for hit in group.hits
                ],
            }
            for group in results.groups
        ],
    }


def trends_record(request: HttpRequest, trends: Trends) -> dict:
    """The trends as the page shows them: seasons, and the queries' and categories' shares."""
    query = request.GET.urlencode()
    suffix = f"?{query}" if query else ""

    def series(items) -> list[dict]:
        return [
            {
                "key": one.key,
                "label": one.label,
                "points": [{**asdict(p), "share": p.share} for p in one.points],
            }
            for one in items
        ]

    return {
        "companies": list(trends.filters.companies),
        "first": trends.filters.first or None,
        "last": trends.filters.last or None,
        "seasons": [
            {**asdict(s), "first_day": s.first_day, "last_day": s.last_day} for s in trends.seasons
        ],
        "queries": series(trends.queries),
        "categories": series(trends.categories),
        "csv_url": request.build_absolute_uri(reverse("trends_csv") + suffix),
        "html_url": request.build_absolute_uri(reverse("trends") + suffix),
    }


def agreement_figures(request: HttpRequest, campaign, unit: str, rows, names: dict) -> dict:
    """A campaign's agreement rows (`agreement.AgreementRow`) with the categories' names."""
    link = f"?unit={unit}"
    return {
        "campaign": campaign.slug,
        "name": campaign.name,
        "unit": unit,
        "rows": [{**asdict(row), "name": names.get(row.category, row.category)} for row in rows],
        "csv_url": _absolute(request, "campaign_agreement_csv", campaign.slug) + link,
        "html_url": _absolute(request, "campaign_agreement", campaign.slug) + link,
    }
