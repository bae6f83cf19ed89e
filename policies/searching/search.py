"""Search every capture's sections: ranked full-text search on PostgreSQL, substrings on SQLite.

On PostgreSQL each `Section` row (one per distinct text, shared by identical captures) has a
stored, GIN-indexed `search_vector` (migration 0006). A query is parsed by
`websearch_to_tsquery`, so "quoted phrases", `or` and `-word` work and no input is a syntax
error. Ranking is kept cheap: at most `CANDIDATES` matching sections are ranked, the best
`RESULTS` distinct section texts of the asked page are kept, and only those get a `ts_headline`
snippet; the same statement counts every matching wording, so the page shows the total and
pages through it. A result
is one section wording in one company, with every capture whose text contains that wording
(found through an index on md5(body)), so a clause that stayed the same for years is one result
"in 12 captures, 2009-04 to 2015-10", not twelve. Everything is one SQL statement, whatever the
number of results.

SQLite has no full-text index here; the fallback matches every word as a case-insensitive
substring, unranked, and the page says so.

The capture filters (companies, capture dates, latest capture only) are shared with the export
and live in `policies.filters`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from policies.extensions import overlay
from policies.filters import CaptureFilters, Params, param_value
from policies.models import Section, Snapshot, TrendText

MAX_QUERY_CHARS = 500
CANDIDATES = 1000  # matching sections ranked per query; beyond that, results are "the first"
RESULTS = 50  # distinct section texts shown per page
MAX_PAGE = CANDIDATES // RESULTS  # pages beyond the ranked candidates hold nothing
SNIPPET_CHARS = 100_000  # ts_headline reads at most this much of a section
_START, _STOP = "\x01", "\x02"  # snippet markers, replaced by <mark> after escaping
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}


@dataclass(frozen=True)
class SearchFilters:
    captures: CaptureFilters = field(default_factory=CaptureFilters)
    category: str = ""  # sections with a (not dismissed) tag of this category

    @classmethod
    def from_params(cls, params: Params) -> SearchFilters:
        """The capture filters plus `category` (a slug)."""
        return cls(CaptureFilters.from_params(params), param_value(params, "category")[:80])


@dataclass(frozen=True)
class Hit:
    """One section wording of one company, and the captures whose text contains it."""

    heading: str
    snippet: SafeString
    captures: int
    first_captured: datetime
    last_captured: datetime
    url: str  # the latest such capture in the reader, at the section
    first_url: str
    rank: float


@dataclass(frozen=True)
class CompanyHits:
    slug: str
    name: str
    url: str
    hits: list[Hit]


@dataclass(frozen=True)
class SearchResults:
    query: str
    groups: list[CompanyHits] = field(default_factory=list)
    message: str = ""  # why there is nothing to show, or a warning about the query
    full_text: bool = True  # False: the SQLite substring fallback
    truncated: bool = False  # more sections matched than were ranked
    total: int = 0  # passages matching, on every page
    page: int = 1

    @property
    def hit_count(self) -> int:
        return sum(len(group.hits) for group in self.groups)

    @property
    def pagination(self) -> Page:
        """A Django `Page` over the total (for the shared pagination links); no query."""
        return Paginator(range(self.total), RESULTS).get_page(self.page)

    @property
    def candidates(self) -> int:
        return CANDIDATES


def page_number(raw: str) -> int:
    """The `page` parameter as a page number, 1 when absent or not a number, at most MAX_PAGE."""
    return min(MAX_PAGE, max(1, int(raw))) if raw.strip().isdigit() else 1


def clean_query(raw: str) -> tuple[str, str]:
    """The query without NUL and control characters, whitespace collapsed, at most
    `MAX_QUERY_CHARS` long; and a message when it cannot be searched as given (too long)."""
    text = "".join(ch for ch in raw if ch not in _CONTROL)
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if len(text) > MAX_QUERY_CHARS:
        return text[:MAX_QUERY_CHARS], (
            f"That query is {len(text):,} characters long; searches are limited to "
            f"{MAX_QUERY_CHARS} characters. Try a few distinctive words or a short phrase."
        )
    return text, ""


def search_sections(
    raw_query: str, filters: SearchFilters | None = None, page: int = 1
) -> SearchResults:
    """Search every capture's sections for `raw_query`, grouped by company, best first: the
    `page`-th `RESULTS` passages, and how many match in all."""
    filters = filters or SearchFilters()
    query, problem = clean_query(raw_query)
    full_text = connection.vendor == "postgresql"
    if problem or not query:
        return SearchResults(query, message=problem, full_text=full_text)
    if full_text:
        return _full_text_search(query, filters, page)
    return _substring_search(query, filters, page)


# --- PostgreSQL ------------------------------------------------------------------------------

_SEARCH_SQL = """
WITH query AS (SELECT websearch_to_tsquery('english', %(q)s) AS q),
candidates AS MATERIALIZED (
    SELECT s.id, s.search_vector, md5(s.body) AS digest
    FROM policies_section s, query
    WHERE s.search_vector @@ query.q {section_filter}
    LIMIT %(candidates)s
),
best AS (
    SELECT c.digest, min(c.id) AS section_id, max(ts_rank_cd(c.search_vector, query.q)) AS rank
    FROM candidates c, query
    GROUP BY c.digest
    ORDER BY rank DESC, c.digest
    LIMIT %(results)s OFFSET %(offset)s
),
occurrences AS (
    SELECT b.digest, sn.company_id, count(DISTINCT sn.id) AS captures,
           min(sn.captured_at) AS first_at, max(sn.captured_at) AS last_at,
           (array_agg(s.anchor ORDER BY sn.captured_at))[1] AS first_anchor,
           (array_agg(s.anchor ORDER BY sn.captured_at DESC))[1] AS last_anchor
    FROM best b
    JOIN policies_section s ON md5(s.body) = b.digest
    JOIN policies_snapshot sn ON sn.text_id = s.text_id
    WHERE TRUE {capture_filter}
    GROUP BY b.digest, sn.company_id
)
SELECT c.slug, c.name, rep.heading, b.rank, o.captures, o.first_at, o.last_at,
       o.first_anchor, o.last_anchor,
       ts_headline(
           'english',
           translate(left(rep.plain, %(snippet_chars)s),
                     %(markers)s, ''),
           query.q, %(headline_options)s
       ) AS snippet,
       (SELECT count(DISTINCT digest) FROM candidates) AS total,
       (SELECT count(*) FROM candidates) AS candidate_count
FROM occurrences o
JOIN best b ON b.digest = o.digest
JOIN policies_section rep ON rep.id = b.section_id
JOIN policies_company c ON c.id = o.company_id
CROSS JOIN query
ORDER BY b.rank DESC, b.digest, c.name, c.slug
"""

_HEADLINE_OPTIONS = (
    f'StartSel="{_START}", StopSel="{_STOP}", MaxWords=35, MinWords=15, '
    'MaxFragments=2, FragmentDelimiter=" … "'
)

# Sections, and the captures in which they carry a tag of the chosen category (from the overlay).
_CATEGORY_SQL = (
    " AND (s.id, sn.id) IN (SELECT unnest(%(tagged_sections)s::bigint[]),"
    " unnest(%(tagged_captures)s::bigint[]))"
)


def _full_text_search(query: str, filters: SearchFilters, page: int) -> SearchResults:
    capture_sql, capture_params = filters.captures.sql("sn")
    params = {
        "q": query,
        "candidates": CANDIDATES,
        "results": RESULTS,
        "offset": (page - 1) * RESULTS,
        "snippet_chars": SNIPPET_CHARS,
        "markers": _START + _STOP,
        "headline_options": _HEADLINE_OPTIONS,
        "category": filters.category,
        **capture_params,
    }
    section_filter = ""
    if filters.captures.active:
        section_filter += (
            f" AND s.text_id IN (SELECT sn.text_id FROM policies_snapshot sn WHERE TRUE"  # nosec B608
            f"{capture_sql})"
        )
    if filters.category:
        tagged = overlay().tagged_captures(filters.category)
        params["tagged_sections"] = [section_id for section_id, _ in tagged]
        params["tagged_captures"] = [snapshot_id for _, snapshot_id in tagged]
        section_filter += " AND s.id = ANY(%(tagged_sections)s)"
        # Count only the captures in which the section carries such a tag.
        capture_sql += _CATEGORY_SQL
    sql = _SEARCH_SQL.format(section_filter=section_filter, capture_filter=capture_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        if not rows:
            cursor.execute("SELECT numnode(websearch_to_tsquery('english', %s))", [query])
            if cursor.fetchone()[0] == 0:
                return SearchResults(query, message=_NO_WORDS)
            return SearchResults(query, page=page)
    hits = [(row[0], row[1], _full_text_hit(row)) for row in rows]
    total, candidate_count = rows[0][-2:]
    truncated = candidate_count >= CANDIDATES
    return SearchResults(query, _grouped(hits), truncated=truncated, total=total, page=page)


def _full_text_hit(row: tuple) -> Hit:
    slug, _, heading, rank, count, first, last, first_anchor, last_anchor, text = row[:10]
    return Hit(
        heading=heading,
        snippet=_marked(text),
        captures=count,
        first_captured=first,
        last_captured=last,
        url=_reader_url(slug, last, last_anchor),
        first_url=_reader_url(slug, first, first_anchor),
        rank=rank,
    )


_NO_WORDS = (
    "That query has no words to search for: very common words (such as “the” or “and”) and "
    "operators alone are ignored. Try a distinctive word."
)


def _marked(snippet: str) -> SafeString:
    """ts_headline output made safe: escape everything, then turn the markers into <mark>."""
    html = escape(" ".join(snippet.split())).replace(_START, "<mark>").replace(_STOP, "</mark>")
    return mark_safe(html)  # nosec B308 B703 -- every character but our markers was escaped


def _reader_url(slug: str, captured_at: datetime, anchor: str) -> str:
    token = captured_at.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    return f"{reverse('snapshot_detail', args=[slug, token])}#{anchor}"


def _grouped(hits: Iterable[tuple[str, str, Hit]]) -> list[CompanyHits]:
    """Hits grouped by company; companies in the order of their best hit."""
    groups: dict[str, CompanyHits] = {}
    for slug, name, hit in hits:
        if slug not in groups:
            url = reverse("company_detail", args=[slug])
            groups[slug] = CompanyHits(slug, name, url, [])
        groups[slug].hits.append(hit)
    return list(groups.values())


# --- SQLite fallback -------------------------------------------------------------------------

_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_SNIPPET_AROUND = 120


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """Words and "phrases" a substring search looks for, and the -excluded ones; `or`/`and`
    are ignored (every term must match), so are unbalanced quotes."""
    wanted, unwanted = [], []
    for match in _TERM.finditer(query):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            negated, phrase = ("-", word[1:]) if word.startswith("-") else ("", word)
        term = phrase.strip().strip('"')
        if not term or term.lower() in {"or", "and"} or not any(ch.isalnum() for ch in term):
            continue
        (unwanted if negated else wanted).append(term)
    return wanted, unwanted


def _substring_search(query: str, filters: SearchFilters, page: int = 1) -> SearchResults:
    wanted = query_terms(query)[0]
    if not wanted:
        return SearchResults(query, message=_NO_WORDS, full_text=False)
    sections = sections_matching(query)
    captures = Snapshot.objects.filter(filters.captures.q())
    if filters.captures.active:
        sections = sections.filter(text_id__in=captures.values("text_id"))
    if filters.category:
        tagged = overlay().tagged_captures(filters.category)
        sections = sections.filter(pk__in={section_id for section_id, _ in tagged})
        captures = captures.filter(pk__in={snapshot_id for _, snapshot_id in tagged})
    rows = list(
        sections.order_by("-text_id", "position").values_list(
            "pk", "text_id", "heading", "anchor", "body", "plain"
        )[: CANDIDATES + 1]
    )
    truncated = len(rows) > CANDIDATES
    by_text: dict[int, list[tuple]] = defaultdict(list)
    for _, text_id, heading, anchor, body, plain in rows[:CANDIDATES]:
        digest = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
        by_text[text_id].append((heading, anchor, plain, digest))
    occurrences: dict[tuple[str, str], list] = {}
    for text_id, captured_at, slug, name in captures.filter(text_id__in=list(by_text)).values_list(
        "text_id", "captured_at", "company__slug", "company__name"
    ):
        for heading, anchor, plain, digest in by_text[text_id]:
            if (slug, digest) not in occurrences:
                occurrences[slug, digest] = [name, heading, plain, []]
            occurrences[slug, digest][3].append((captured_at, anchor))
    ranked = sorted(
        (-sum(text.lower().count(term.lower()) for term in wanted), name, slug, heading, text, seen)
        for (slug, _), (name, heading, text, seen) in occurrences.items()
    )
    shown = [_substring_hit(row, wanted) for row in ranked[(page - 1) * RESULTS : page * RESULTS]]
    return SearchResults(
        query, _grouped(shown), full_text=False, truncated=truncated, total=len(ranked), page=page
    )


def _substring_hit(row: tuple, wanted: list[str]) -> tuple[str, str, Hit]:
    """(slug, name, hit) of one ranked wording; the snippet is made for shown hits only."""
    negative_rank, name, slug, heading, text, seen = row
    seen.sort()
    hit = Hit(
        heading=heading,
        snippet=_substring_snippet(" ".join(text.split()), wanted),
        captures=len(seen),
        first_captured=seen[0][0],
        last_captured=seen[-1][0],
        url=_reader_url(slug, *seen[-1]),
        first_url=_reader_url(slug, *seen[0]),
        rank=float(-negative_rank),
    )
    return slug, name, hit


def _substring_snippet(text: str, terms: list[str]) -> SafeString:
    """About 240 characters around the first match, every match marked."""
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    first = pattern.search(text)
    at = first.start() if first else 0
    start, end = max(0, at - _SNIPPET_AROUND), at + _SNIPPET_AROUND
    # Cut at spaces, never inside a word.
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < at else start
    if end < len(text):
        space = text.rfind(" ", at, end)
        end = space if space > at else end
    window = text[start:end]
    parts, cursor = [], 0
    for match in pattern.finditer(window):
        parts.append(escape(window[cursor : match.start()]))
        parts.append(f"<mark>{escape(match.group())}</mark>")
        cursor = match.end()
    parts.append(escape(window[cursor:]))
    html = ("… " if start else "") + "".join(parts) + (" …" if end < len(text) else "")
    return mark_safe(html)  # nosec B308 B703 -- built from escaped pieces


def sections_matching(query: str) -> QuerySet[Section]:
    """Every section the search finds for a (cleaned) query, unranked and unfiltered: on
    PostgreSQL its stored vector matches `websearch_to_tsquery`; on SQLite every word and
    "phrase" is a substring and no -excluded one is."""
    if connection.vendor == "postgresql":
        # A subquery of its own: the caller may alias the outer table (as a subquery itself).
        matches = RawSQL(
            "SELECT id FROM policies_section "
            "WHERE search_vector @@ websearch_to_tsquery('english', %s)",
            [query],
        )
        return Section.objects.filter(pk__in=matches)
    wanted, unwanted = query_terms(query)
    sections = Section.objects.all() if wanted else Section.objects.none()
    for term in wanted:
        sections = sections.filter(plain__icontains=term)
    for term in unwanted:
        sections = sections.exclude(plain__icontains=term)
    return sections


def texts_matching(query: str) -> QuerySet | RawSQL:
    """Ids (`text_id`) of the texts of half-year policies that match a (cleaned) query as a
    whole, for `text_id__in`: on PostgreSQL the whole text's stored vector (`TrendText`, the
    sections' search configuration) matches `websearch_to_tsquery`; on SQLite every word and
    "phrase" is in some section and no -excluded one is in any. The trends count policies with
    these. On PostgreSQL the statement is the bare index lookup: wrapped in a second
    `TrendText` subquery, the planner (with the tables analysed) walked the table in key order
    and read every vector: 2 s for a common word at 100,000 captures instead of 0.3."""
    if connection.vendor == "postgresql":
        return RawSQL(
            "SELECT text_id FROM policies_trendtext "
            "WHERE search_vector @@ websearch_to_tsquery('english', %s)",
            [query],
        )
    wanted, unwanted = query_terms(query)
    texts = TrendText.objects.all() if wanted else TrendText.objects.none()
    for term in wanted:
        texts = texts.filter(
            text_id__in=Section.objects.filter(plain__icontains=term).values("text_id")
        )
    for term in unwanted:
        texts = texts.exclude(
            text_id__in=Section.objects.filter(plain__icontains=term).values("text_id")
        )
    return texts.values("text_id")


@contextmanager
def through_the_index() -> Iterator[None]:
    """Run `texts_matching` statements through the GIN index. PostgreSQL prices reading a
    stored vector as free, so on `policies_trendtext` (a small table of large, TOASTed vectors)
    it prefers decompressing all 30,000 of them to asking the index: 600 ms instead of 10 for
    a rare word. No effect on SQLite."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        yield


def has_words(query: str) -> bool:
    """Whether a (cleaned) query has anything to search for: not only very common words and
    operators (PostgreSQL) or punctuation (SQLite)."""
    if not query:
        return False
    if connection.vendor != "postgresql":
        return bool(query_terms(query)[0])
    with connection.cursor() as cursor:
        cursor.execute("SELECT numnode(websearch_to_tsquery('english', %s))", [query])
        return cursor.fetchone()[0] > 0


def search_categories() -> list[tuple[str, str]]:
    """(slug, name) of the categories the category filter offers."""
    return overlay().search_categories()
