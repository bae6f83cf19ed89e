"""Trends across the corpus, per half-year (`seasons`): captures, companies, the quartiles of
the policies' word counts, the share of policies a search query finds, and the share of tagged
policies carrying each category.

A half-year's *policies* are each company's latest capture in it (`SeasonPolicy`, kept at
import). What does not depend on a query is precomputed: the policies themselves, and for the
whole corpus the counts and quartiles (`SeasonSummary`, rebuilt on the first read after an
import). A query costs one statement: the policies' texts the site's search configuration matches as
wholes (`searching.search.texts_matching`, on their precomputed vectors), counted per
half-year.

Shares of categories are over the half-year's *tagged* policies (those carrying any tag anyone
may see; adjudicated gold where a capture has it, through `extensions.overlay().trend_tags`):
an untagged policy says nothing about a practice. They are recounted at most once a minute.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet

from policies.extensions import overlay
from policies.filters import CaptureFilters, FilterError, Params
from policies.models import Company, SeasonPolicy, SeasonSummary
from policies.searching.search import clean_query, has_words, texts_matching, through_the_index
from policies.spreadsheets import csv_safe
from policies.trends.charts import SeasonChart, season_chart
from policies.trends.seasons import quartiles, season_bounds, season_of, seasons_between

MAX_QUERIES = 4
# Tag shares do not depend on the query but change with every tag: counted at most once a
# minute per worker (300 ms of CPU with 100,000 tags), so a query trend pays for its query.
TAG_COUNTS_SECONDS = 60


@dataclass(frozen=True)
class TrendFilters:
    """Which policies count (companies; half-years from/to) and the queries to chart."""

    companies: tuple[str, ...] = ()
    first: str = ""  # a season, "" for the corpus's first
    last: str = ""
    queries: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, params: Params) -> TrendFilters:
        """`company` (repeatable), `from` and `to` (a day, month or year: the half-years
        holding them), `q` (repeatable, at most MAX_QUERIES, the search's syntax)."""
        captures = CaptureFilters.from_params(params)
        if captures.latest:
            raise FilterError("latest: trends compare half-years; leave out latest")
        queries: list[str] = []
        for raw in params.getlist("q"):
            query, problem = clean_query(raw)
            if problem:
                raise FilterError(f"q: {problem}")
            if query and query not in queries:
                queries.append(query)
        if len(queries) > MAX_QUERIES:
            raise FilterError(f"q: at most {MAX_QUERIES} queries at once")
        known = set(
            Company.objects.filter(slug__in=captures.companies).values_list("slug", flat=True)
        )
        unknown = [slug for slug in captures.companies if slug not in known]
        if unknown:
            raise FilterError(f"company: no company {unknown[0][:100]!r}")
        first = season_of(captures.captured_from) if captures.captured_from else ""
        before = captures.captured_before
        last = season_of(before - timedelta(microseconds=1)) if before else ""
        return cls(captures.companies, first, last, tuple(queries))


@dataclass(frozen=True)
class Season:
    season: str
    captures: int
    companies: int  # = the half-year's policies: one per company
    words_q1: float | None
    words_median: float | None
    words_q3: float | None
    tagged: int = 0  # policies carrying a tag anyone may see

    @property
    def first_day(self):
        return season_bounds(self.season)[0].date()

    @property
    def last_day(self):
        return (season_bounds(self.season)[1] - timedelta(days=1)).date()


@dataclass(frozen=True)
class Share:
    season: str
    count: int
    of: int

    @property
    def share(self) -> float | None:
        """count / of, None when there is nothing to divide by."""
        return self.count / self.of if self.of else None


@dataclass(frozen=True)
class Series:
    key: str  # the query, or a category slug
    label: str
    points: list[Share]


@dataclass(frozen=True)
class Trends:
    filters: TrendFilters
    seasons: list[Season] = field(default_factory=list)
    queries: list[Series] = field(default_factory=list)
    categories: list[Series] = field(default_factory=list)

    @property
    def season_rows(self) -> list[tuple[Season, list[Share]]]:
        """Each season with its share of each query (the figures table)."""
        by_query = [series.points for series in self.queries]
        return [(s, [points[n] for points in by_query]) for n, s in enumerate(self.seasons)]


def _summarise(rows: Iterable[tuple[str, int, int]]) -> dict[str, Season]:
    """Seasons from (season, captures, word count) of their policies."""
    captures: dict[str, int] = defaultdict(int)
    words: dict[str, list[int]] = defaultdict(list)
    for season, count, word_count in rows:
        captures[season] += count
        words[season].append(word_count)
    return {
        season: Season(season, captures[season], len(counts), *quartiles(counts))
        for season, counts in words.items()
    }


def season_summaries() -> list[SeasonSummary]:
    """The whole corpus per half-year, rebuilt from the policies when an import emptied it."""
    summaries = list(SeasonSummary.objects.order_by("season"))
    if summaries or not SeasonPolicy.objects.exists():
        return summaries
    rows = SeasonPolicy.objects.values_list("season", "captures", "word_count")
    built = [
        SeasonSummary(
            season=s.season,
            captures=s.captures,
            companies=s.companies,
            words_q1=s.words_q1,
            words_median=s.words_median,
            words_q3=s.words_q3,
        )
        for s in _summarise(rows.iterator(chunk_size=5000)).values()
    ]
    try:
        with transaction.atomic():
            SeasonSummary.objects.bulk_create(built)
    except IntegrityError:  # another request rebuilt them meanwhile: the same figures
        pass
    return sorted(built, key=lambda s: s.season)


def _policies(filters: TrendFilters) -> QuerySet[SeasonPolicy]:
    found = SeasonPolicy.objects.all()
    if filters.companies:
        found = found.filter(company__slug__in=filters.companies)
    if filters.first:
        found = found.filter(season__gte=filters.first)
    if filters.last:
        found = found.filter(season__lte=filters.last)
    return found.order_by()


def _seasons(filters: TrendFilters) -> list[Season]:
    """Every half-year from the first to the last with a policy (gaps as empty seasons)."""
    if filters.companies:
        rows = _policies(filters).values_list("season", "captures", "word_count")
        found = _summarise(rows)
    else:
        found = {
            s.season: Season(
                s.season, s.captures, s.companies, s.words_q1, s.words_median, s.words_q3
            )
            for s in season_summaries()
            if (not filters.first or s.season >= filters.first)
            and (not filters.last or s.season <= filters.last)
        }
    if not found:
        return []
    every = seasons_between(min(found), max(found))
    return [found.get(s) or Season(s, 0, 0, None, None, None) for s in every]


def _query_series(query: str, policies: QuerySet, seasons: list[Season]) -> Series:
    if not has_words(query):
        raise FilterError(
            f"q: {query[:60]!r} has no words to search for (very common words alone are ignored)"
        )
    matching = policies.filter(text_id__in=texts_matching(query))
    with through_the_index():
        counts = dict(matching.values("season").annotate(n=Count("pk")).values_list("season", "n"))
    points = [Share(s.season, counts.get(s.season, 0), s.companies) for s in seasons]
    return Series(query, query, points)


def _category_series(
    policies: QuerySet, seasons: list[Season]
) -> tuple[list[Season], list[Series]]:
    """The seasons with their tagged policies counted, and a series per category."""
    key = "trend-tags:" + hashlib.sha256(str(policies.query).encode()).hexdigest()
    tags = cache.get(key)
    if tags is None:
        tags = overlay().trend_tags(policies)
        cache.set(key, tags, TAG_COUNTS_SECONDS)
    if not tags.categories:
        return seasons, []
    seasons = [Season(**{**s.__dict__, "tagged": tags.tagged.get(s.season, 0)}) for s in seasons]
    series = [
        Series(
            slug,
            name,
            [Share(s.season, tags.by_category.get((s.season, slug), 0), s.tagged) for s in seasons],
        )
        for slug, name in tags.categories
    ]
    return seasons, series


def corpus_trends(filters: TrendFilters) -> Trends:
    """The trends of the policies `filters` selects; raises FilterError (naming `q`) for a
    query with no words."""
    seasons = _seasons(filters)
    if not seasons:
        return Trends(filters)
    policies = _policies(filters)
    queries = [_query_series(query, policies, seasons) for query in filters.queries]
    seasons, categories = _category_series(policies, seasons)
    return Trends(filters, seasons, queries, categories)


@dataclass(frozen=True)
class TrendCharts:
    corpus: SeasonChart | None
    words: SeasonChart | None
    queries: SeasonChart | None
    categories: SeasonChart | None


def trend_charts(trends: Trends) -> TrendCharts:
    """The page's four charts: captures and companies, word-count quartiles, the queries'
    shares and the categories' shares."""
    names = [s.season for s in trends.seasons]
    words = season_chart(
        names,
        [("Median words", [s.words_median for s in trends.seasons])],
        band=([s.words_q1 for s in trends.seasons], [s.words_q3 for s in trends.seasons]),
    )
    corpus = season_chart(
        names,
        [
            ("Captures", [s.captures for s in trends.seasons]),
            ("Companies", [s.companies for s in trends.seasons]),
        ],
    )

    def shares(series: list[Series]) -> SeasonChart | None:
        rows = [(one.label, [p.share for p in one.points]) for one in series]
        return season_chart(names, rows, percent=True)

    # Categories nobody tagged in these half-years would crowd the legend with flat lines.
    used = [one for one in trends.categories if any(p.count for p in one.points)]
    return TrendCharts(corpus, words, shares(trends.queries), shares(used))


TREND_COLUMNS = ("chart", "series", "season", "value", "count", "of")


def trend_rows(trends: Trends) -> Iterable[list]:
    """Every chart's figures as CSV rows (TREND_COLUMNS; text cells formula-safe): counts,
    word-count quartiles, and each share with its count and denominator."""
    for s in trends.seasons:
        yield ["corpus", "captures", s.season, s.captures, "", ""]
        yield ["corpus", "companies", s.season, s.companies, "", ""]
    for s in trends.seasons:
        for name, value in (("q1", s.words_q1), ("median", s.words_median), ("q3", s.words_q3)):
            yield ["words", name, s.season, "" if value is None else value, "", ""]
    for chart, series in (("query", trends.queries), ("category", trends.categories)):
        for one in series:
            for p in one.points:
                share = "" if p.share is None else f"{p.share:.4f}"
                yield [chart, csv_safe(one.label), p.season, share, p.count, p.of]
