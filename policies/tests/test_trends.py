"""Trends per half-year, checked by hand on a small corpus.

Three companies, seven captures:

    a.example  2016-02-01  100 words, says "do not track"   (not a's 2016-A policy: a later one is)
               2016-05-01  200 words, says "do not track"   a's 2016-A policy
               2016-08-01  300 words                         a's 2016-B policy
    b.example  2016-03-01  400 words                         b's 2016-A policy
               2017-02-01  500 words, mentions GDPR          b's 2017-A policy
    c.example  2016-06-30 23:59:59  600 words                c's 2016-A policy (last second of A)
               2016-07-01 00:00:00  700 words, "do not track" c's 2016-B policy (first of B)

2016-A: 4 captures, 3 companies, policies of 200, 400, 600 words: Q1 300, median 400, Q3 500.
2016-B: 2 captures, 2 companies, 300 and 700 words: Q1 400, median 500, Q3 600.
2017-A: 1 capture, 1 company, 500 words: Q1 = median = Q3 = 500.
"do not track": 2016-A 1 of 3 (a; its February capture does not count), 2016-B 1 of 2 (c),
2017-A 0 of 1. "GDPR": 2017-A 1 of 1.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connection

from policies.filters import FilterError
from policies.models import SeasonPolicy, SeasonSummary, Snapshot
from policies.reading.text import count_words
from policies.tests.factories import make_company, make_snapshot
from policies.trends.seasons import quantile, quartiles, season_bounds, season_of, seasons_between
from policies.trends.trends import TrendFilters, corpus_trends, trend_rows

pytestmark = pytest.mark.django_db

DNT = "We honour do not track signals."
GDPR = "The GDPR gives you rights."
SHARING = "We share it with advertisers."


def body(words: int, *sentences: str) -> str:
    """A policy of exactly `words` words (heading included) holding `sentences`."""
    lead = " ".join(sentences)
    filler = words - count_words(f"Policy {lead}")
    # Distinct filler per length, so that no two lengths share a text.
    text = f"# Policy\n\n{lead}\n\n" + " ".join([f"w{words}"] * filler) + "\n"
    assert count_words(text) == words
    return text


CORPUS = {
    "a.example": [
        (datetime(2016, 2, 1, tzinfo=UTC), body(100, DNT)),
        (datetime(2016, 5, 1, tzinfo=UTC), body(200, DNT, SHARING)),
        (datetime(2016, 8, 1, tzinfo=UTC), body(300)),
    ],
    "b.example": [
        (datetime(2016, 3, 1, tzinfo=UTC), body(400, SHARING)),
        (datetime(2017, 2, 1, tzinfo=UTC), body(500, GDPR)),
    ],
    "c.example": [
        (datetime(2016, 6, 30, 23, 59, 59, tzinfo=UTC), body(600)),
        (datetime(2016, 7, 1, tzinfo=UTC), body(700, DNT)),
    ],
}


@pytest.fixture(autouse=True)
def _fresh_tag_counts():
    cache.clear()  # the tag shares are kept a minute; each test counts its own
    yield
    cache.clear()


@pytest.fixture
def corpus() -> dict[str, list[Snapshot]]:
    made = {}
    for slug, captures in CORPUS.items():
        company = make_company(slug=slug)
        made[slug] = [make_snapshot(company, captured_at=at, body=text) for at, text in captures]
    return made


def _trends(**params):
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for name, values in params.items():
        query.setlist(name, values if isinstance(values, list) else [values])
    return corpus_trends(TrendFilters.from_params(query))


# --- seasons (pure) ---------------------------------------------------------------------------


def test_a_season_is_a_half_year_in_utc():
    assert season_of(datetime(2016, 6, 30, 23, 59, 59, tzinfo=UTC)) == "2016-A"
    assert season_of(datetime(2016, 7, 1, tzinfo=UTC)) == "2016-B"
    assert season_bounds("2016-B") == (
        datetime(2016, 7, 1, tzinfo=UTC),
        datetime(2017, 1, 1, tzinfo=UTC),
    )
    assert seasons_between("2015-B", "2017-A") == ["2015-B", "2016-A", "2016-B", "2017-A"]


def test_quartiles_interpolate_between_ranks():
    assert quartiles([4, 1, 3, 2]) == (1.75, 2.5, 3.25)
    assert quartiles([200, 400, 600]) == (300, 400, 500)
    assert quartiles([7]) == (7, 7, 7)
    assert quartiles([]) is None
    assert quantile([10, 20], 0.5) == 15


# --- the figures ------------------------------------------------------------------------------


def test_each_company_has_one_policy_per_half_year_its_latest_capture(corpus):
    rows = SeasonPolicy.objects.order_by("season", "company__slug").values_list(
        "season", "company__slug", "word_count", "captures"
    )
    assert list(rows) == [
        ("2016-A", "a.example", 200, 2),
        ("2016-A", "b.example", 400, 1),
        ("2016-A", "c.example", 600, 1),
        ("2016-B", "a.example", 300, 1),
        ("2016-B", "c.example", 700, 1),
        ("2017-A", "b.example", 500, 1),
    ]


def test_corpus_figures_per_half_year(corpus):
    seasons = _trends().seasons
    assert [
        (s.season, s.captures, s.companies, s.words_q1, s.words_median, s.words_q3) for s in seasons
    ] == [
        ("2016-A", 4, 3, 300, 400, 500),
        ("2016-B", 2, 2, 400, 500, 600),
        ("2017-A", 1, 1, 500, 500, 500),
    ]
    assert str(seasons[1].first_day) == "2016-07-01"
    assert str(seasons[1].last_day) == "2016-12-31"


def test_the_summaries_are_precomputed_and_rebuilt_after_an_import(corpus):
    _trends()
    assert SeasonSummary.objects.count() == 3
    make_snapshot(corpus["b.example"][0].company, captured_at=datetime(2018, 1, 5, tzinfo=UTC))
    assert SeasonSummary.objects.count() == 0  # stale: emptied by the import
    assert [s.season for s in _trends().seasons][-2:] == ["2017-B", "2018-A"]
    assert SeasonSummary.objects.count() == 4


def test_a_gap_between_half_years_is_an_empty_season(corpus):
    make_snapshot(corpus["b.example"][0].company, captured_at=datetime(2018, 1, 5, tzinfo=UTC))
    gap = _trends().seasons[3]
    assert (gap.season, gap.captures, gap.companies, gap.words_median) == ("2017-B", 0, 0, None)


def test_companies_filter_the_figures(corpus):
    seasons = _trends(company="a.example,c.example").seasons
    assert [(s.season, s.captures, s.words_q1, s.words_median, s.words_q3) for s in seasons] == [
        ("2016-A", 3, 300, 400, 500),  # 200 and 600
        ("2016-B", 2, 400, 500, 600),
    ]


def test_from_and_to_pick_the_half_years_holding_them(corpus):
    assert [s.season for s in _trends(**{"from": "2016-09", "to": "2017"}).seasons] == [
        "2016-B",
        "2017-A",
    ]


def test_share_of_policies_matching_a_query(corpus):
    dnt, gdpr = _trends(q=['"do not track"', "GDPR"]).queries
    assert [(p.season, p.count, p.of) for p in dnt.points] == [
        ("2016-A", 1, 3),
        ("2016-B", 1, 2),
        ("2017-A", 0, 1),
    ]
    assert [p.share for p in dnt.points] == [pytest.approx(1 / 3), 0.5, 0.0]
    assert [(p.count, p.of) for p in gdpr.points] == [(0, 3), (0, 2), (1, 1)]


def test_a_policy_matches_as_a_whole_text_not_section_by_section(corpus):
    two_sections = f"# Policy\n\n{SHARING}\n\n## Rights\n\n{GDPR}\n"
    make_snapshot(
        make_company(slug="d.example"),
        captured_at=datetime(2017, 3, 1, tzinfo=UTC),
        body=two_sections,
    )
    (both,) = _trends(q="GDPR advertisers").queries
    # 2017-A: b's policy names the GDPR only; d's names both, in different sections.
    assert [(p.season, p.count, p.of) for p in both.points][-1] == ("2017-A", 1, 2)
    (excluded,) = _trends(q="GDPR -advertisers").queries
    assert [(p.count, p.of) for p in excluded.points][-1] == (1, 2)


def test_query_share_within_chosen_companies(corpus):
    (dnt,) = _trends(q='"do not track"', company="b.example,c.example").queries
    assert [(p.season, p.count, p.of) for p in dnt.points] == [
        ("2016-A", 0, 2),
        ("2016-B", 1, 1),
        ("2017-A", 0, 1),
    ]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"company": "nobody.example"}, "company"),
        ({"from": "soon"}, "from"),
        ({"latest": "1"}, "latest"),
        ({"q": "!!!"}, "q"),
        ({"q": ["one", "two", "three", "four", "five"]}, "q"),
    ],
)
def test_bad_parameters_are_named(corpus, params, parameter):
    with pytest.raises(FilterError) as raised:
        _trends(**params)
    assert raised.value.parameter == parameter


def test_an_empty_corpus_has_no_seasons(db):
    assert _trends(q="data").seasons == []


# --- tags ---------------------------------------------------------------------------------------


def test_share_of_tagged_policies_per_category_gold_where_adjudicated(corpus):
    from annotations.models import Annotation
    from annotations.tests.factories import make_user, tag_text
    from policies.permissions import REVIEWER

    rita = make_user("rita", REVIEWER)
    a_may, b_march = corpus["a.example"][1], corpus["b.example"][0]
    tag_text(a_may, "advertisers", rita, slug="third-party-sharing-collection")
    tag_text(b_march, "advertisers", rita, slug="third-party-sharing-collection")
    tag_text(b_march, "share", rita, slug="data-retention")
    tag_text(corpus["a.example"][0], "w100", rita, slug="data-retention")  # not a policy
    # c's 2016-B policy: an annotator's sharing tag, but adjudicated gold says retention only.
    c_july = corpus["c.example"][1]
    tag_text(c_july, "signals", rita, slug="third-party-sharing-collection")
    gold = tag_text(c_july, "honour", rita, slug="data-retention")
    Annotation.objects.filter(pk=gold.pk).update(layer=Annotation.Layer.GOLD)

    trends = _trends()
    assert [(s.season, s.tagged) for s in trends.seasons] == [
        ("2016-A", 2),
        ("2016-B", 1),
        ("2017-A", 0),
    ]
    by_slug = {series.key: series for series in trends.categories}
    sharing = by_slug["third-party-sharing-collection"].points
    retention = by_slug["data-retention"].points
    assert [(p.count, p.of) for p in sharing] == [(2, 2), (0, 1), (0, 0)]
    assert [(p.count, p.of) for p in retention] == [(1, 2), (1, 1), (0, 0)]
    assert retention[2].share is None


# --- the CSV, the page, the API ---------------------------------------------------------------


def test_the_csv_rows_carry_every_chart_formula_safe(corpus):
    rows = list(trend_rows(_trends(q="=cmd")))
    assert ["corpus", "captures", "2016-A", 4, "", ""] in rows
    assert ["words", "median", "2016-B", 500, "", ""] in rows
    assert ["query", "'=cmd", "2016-A", "0.0000", 0, 3] in rows


def test_trends_page_and_csv(client, corpus):
    page = client.get("/trends/", {"q": '"do not track"'})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Trends across the corpus" in html
    assert "<svg" in html
    assert "2016-B" in html
    assert "1/3" in html  # the figures table: "do not track" in 2016-A
    assert "/trends.csv?q=" in html
    download = client.get("/trends.csv", {"q": '"do not track"'})
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0] == ["chart", "series", "season", "value", "count", "of"]
    assert ["query", '"do not track"', "2016-A", "0.3333", "1", "3"] in rows


def test_a_bad_parameter_is_a_400_naming_it(client, corpus):
    page = client.get("/trends/", {"from": "soon"})
    assert page.status_code == 400
    assert "from: expected a date" in page.content.decode()
    assert client.get("/trends.csv", {"q": "!!!"}).status_code == 400


def test_tag_shares_are_counted_in_three_queries_however_many_tags(
    corpus, django_assert_num_queries
):
    from annotations.tests.factories import make_user, tag_text
    from policies.permissions import REVIEWER

    rita = make_user("rita", REVIEWER)
    for capture in [*corpus["a.example"], *corpus["b.example"]]:
        tag_text(capture, "Policy", rita, slug="policy-change")
    # The summaries (1; rebuilt on this first read after the imports: whether there are
    # policies, reading them, a savepoint, storing the summaries, its release: 5); the
    # categories, the tagged policies per half-year, per half-year and category (3).
    with django_assert_num_queries(9):
        trends = _trends()
    assert [s.tagged for s in trends.seasons] == [2, 1, 1]


def test_the_header_links_to_the_trends(client, db):
    assert 'href="/trends/"' in client.get("/").content.decode()


def _grow(times: int) -> None:
    for n in range(times):
        company = make_company(slug=f"more{n}.example")
        for year in (2016, 2017):
            make_snapshot(company, captured_at=datetime(year, 3, 1, tzinfo=UTC), body=body(50 + n))


@pytest.mark.parametrize("extra", [0, 6])
def test_trends_page_queries_do_not_grow_with_the_corpus(
    client, corpus, extra, django_assert_num_queries
):
    _grow(extra)
    client.get("/trends/")  # rebuilds the summaries and counts the tags (kept a minute)
    full_text = connection.vendor == "postgresql"
    # The summaries (1); per query: [has words (PostgreSQL)], a savepoint, [the index-first
    # setting (PostgreSQL)], the count per half-year, its release. The same at both sizes.
    with django_assert_num_queries(1 + 2 * (3 + 2 * full_text)):
        response = client.get("/trends/", {"q": ["track", "GDPR"]})
    assert response.status_code == 200
