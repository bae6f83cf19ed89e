"""Search over every capture's sections: ranking, snippets, filters, grouping, hostile queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from annotations.tests.factories import make_user, tag_text
from policies.filters import CaptureFilters
from policies.importing.importer import import_paths
from policies.models import Company
from policies.searching import search
from policies.searching.search import SearchFilters, query_terms, search_sections
from policies.tests.factories import make_company, make_snapshot

pytestmark = pytest.mark.django_db
postgres = pytest.mark.postgres
ON_POSTGRES = connection.vendor == "postgresql"

SHARING = "## Sharing\n\nWe share your email address with advertising partners.\n"
ACME_OLD = f"# Acme privacy\n\n{SHARING}\n## Retention\n\nWe keep logs for 30 days.\n"
ACME_NEW = f"# Acme privacy\n\n{SHARING}\n## Retention\n\nWe keep logs for a year.\n"
OTHER = (
    "# Other privacy\n\n## Email\n\nWe never share your email address. "
    "Cookies & <script>alert(1)</script> are small files.\n"
)


def _at(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


@pytest.fixture
def histories() -> None:
    """acme: the sharing clause is the same in three captures (two distinct texts); other: one
    capture that also mentions email addresses."""
    acme = make_company(slug="acme.example", name="Acme")
    make_snapshot(acme, captured_at=_at(2009, 4), body=ACME_OLD)
    make_snapshot(acme, captured_at=_at(2012, 6), body=ACME_OLD)
    make_snapshot(acme, captured_at=_at(2015, 10), body=ACME_NEW)
    other = make_company(slug="other.example", name="Other")
    make_snapshot(other, captured_at=_at(2016, 5), body=OTHER)


def _hits(results) -> dict[str, list]:
    return {group.slug: group.hits for group in results.groups}


def test_results_are_grouped_by_company_with_the_captures_they_occur_in(histories):
    results = search_sections("email address")
    assert {group.slug for group in results.groups} == {"acme.example", "other.example"}
    (sharing,) = _hits(results)["acme.example"]
    assert sharing.heading == "Sharing"
    assert sharing.captures == 3
    assert (sharing.first_captured, sharing.last_captured) == (_at(2009, 4), _at(2015, 10))
    assert sharing.url == "/companies/acme.example/20151001000000/#sharing"
    assert sharing.first_url == "/companies/acme.example/20090401000000/#sharing"
    assert "<mark>" in sharing.snippet


def test_the_page_says_in_how_many_captures_and_when(client, histories):
    html = client.get("/search/", {"q": "email address"}).content.decode()
    assert "In 3 captures, 2009-04 to 2015-10" in html
    assert 'href="/companies/acme.example/20151001000000/#sharing"' in html
    assert 'href="/companies/acme.example/20090401000000/#sharing">first</a>' in html
    assert '<h2><a href="/companies/other.example/">Other</a></h2>' in html


def test_snippets_mark_matches_and_escape_the_policy_text(histories):
    (hit,) = _hits(search_sections("cookies"))["other.example"]
    assert "<mark>" in hit.snippet.lower()
    assert "&amp;" in hit.snippet
    assert "<script>" not in hit.snippet


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"company": "other.example"}, {"other.example": 1}),
        ({"company": "acme.example, other.example"}, {"acme.example": 3, "other.example": 1}),
        ({"from": "2010", "to": "2013"}, {"acme.example": 1}),
        ({"from": "2015-10-01"}, {"acme.example": 1, "other.example": 1}),
        ({"to": "2009-04"}, {"acme.example": 1}),
        ({"latest": "1"}, {"acme.example": 1, "other.example": 1}),
        ({"latest": "1", "company": "acme.example"}, {"acme.example": 1}),
    ],
)
def test_filters_restrict_the_captures_counted(histories, params, expected):
    results = search_sections("email", _filters(params))
    assert {slug: hits[0].captures for slug, hits in _hits(results).items()} == expected


def test_category_filter_keeps_sections_tagged_with_it(histories):
    acme = Company.objects.get(slug="acme.example")
    tag_text(
        acme.snapshots.last(), "We share your email address", make_user("rita"), "data-retention"
    )
    results = search_sections("email", SearchFilters(category="data-retention"))
    assert list(_hits(results)) == ["acme.example"]
    # The tag was carried to the two earlier captures, where the clause is the same.
    assert _hits(results)["acme.example"][0].captures == 3
    assert search_sections("email", SearchFilters(category="data-security")).groups == []


def _filters(params: dict) -> SearchFilters:
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in params.items():
        query[key] = value
    return SearchFilters.from_params(query)


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "-",
        "or",
        "&|!():*<>",
        "the and of",
        "email\x00address",
        "x" * 10_000,
        "'; DROP TABLE policies_section; --",
        "\\",
        "%_%",
        'email -"',
        "\u202e\ufeffemail",
    ],
    ids=lambda q: repr(q[:20]),
)
def test_malformed_queries_never_fail(client, histories, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert b"search-results" in response.content


def test_operators_only_explain_there_is_nothing_to_search(client, histories):
    html = client.get("/search/", {"q": "- or &"}).content.decode()
    assert "no words to search for" in html


def test_a_very_long_query_is_refused_politely(client, histories):
    html = client.get("/search/", {"q": "email " * 2000}).content.decode()
    assert "searches are limited to 500 characters" in html


def test_a_nul_byte_is_dropped(histories):
    assert search_sections("email\x00 address").query == "email address"


def test_the_query_is_escaped_wherever_it_is_echoed(client, histories):
    query = '"><script>alert(1)</script> email'
    html = client.get("/search/", {"q": query}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;script&gt;" in html  # the header box and the page's own box


def test_bad_filters_say_why(client, histories):
    response = client.get("/search/", {"q": "email", "from": "<b>soon</b>"})
    assert response.status_code == 400
    assert "from: expected a date" in response.content.decode()
    assert "<b>soon" not in response.content.decode()


def test_query_count_does_not_grow_with_results(client, django_assert_num_queries, monkeypatch):
    # PostgreSQL: the categories for the filter, the search statement (which also counts every
    # match for the total). SQLite: the categories, the matching sections, their captures.
    # A later page costs the same.
    expected = 2 if ON_POSTGRES else 3
    make_snapshot(make_company(slug="one.example"), body="## Email\n\nYour email address.\n")
    with django_assert_num_queries(expected):
        few = client.get("/search/", {"q": "email"})
    for n in range(12):
        company = make_company(slug=f"c{n}.example")
        for year in range(2005, 2010):
            body = f"## Email\n\nYour email address, version {year}.\n\n## More {n}\n\nEmail.\n"
            make_snapshot(company, captured_at=_at(year, 1), body=body)
    with django_assert_num_queries(expected):
        many = client.get("/search/", {"q": "email"})
    monkeypatch.setattr(search, "RESULTS", 5)
    with django_assert_num_queries(expected):
        second = client.get("/search/", {"q": "email", "page": "2"})
    assert b"Page 2 of" in second.content
    assert many.content.count(b'class="search-hit"') > few.content.count(b'class="search-hit"')


def test_header_search_box_goes_to_search(client):
    html = client.get("/").content.decode()
    assert 'action="/search/"' in html


def test_empty_page_explains_the_syntax(client):
    response = client.get("/search/")
    assert response.status_code == 200
    assert b"leaves one out" in response.content


# --- PostgreSQL full-text search -------------------------------------------------------------


@postgres
def test_full_text_search_stems_and_understands_phrases_or_and_minus(histories):
    assert set(_hits(search_sections("sharing"))) == {"acme.example", "other.example"}
    assert set(_hits(search_sections('"address with advertising"'))) == {"acme.example"}
    assert set(_hits(search_sections("advertising or cookies"))) == {
        "acme.example",
        "other.example",
    }
    assert set(_hits(search_sections("email -advertising"))) == {"other.example"}


@postgres
def test_heading_matches_rank_first(histories):
    results = search_sections("email")
    assert results.full_text
    assert results.groups[0].slug == "other.example"  # "## Email" is a heading there
    ranks = [hit.rank for group in results.groups for hit in group.hits]
    assert ranks == sorted(ranks, reverse=True)


@postgres
def test_only_the_first_candidates_are_ranked(histories, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 1)
    results = search_sections("email")
    assert results.truncated
    assert results.hit_count == 1


@postgres
def test_search_finds_the_sample_corpus(sample_dir):
    import_paths([sample_dir / "corpus-sample"])
    results = search_sections('"google analytics"')
    assert "psiphon3.com" in _hits(results)
    (hit, *_) = _hits(results)["psiphon3.com"]
    assert "<mark>Google</mark> <mark>Analytics</mark>" in hit.snippet
    assert "**" not in hit.snippet  # Markdown markup is tidied out of snippets


@postgres
def test_postgres_page_has_no_fallback_notice(client, histories):
    assert b"search-fallback" not in client.get("/search/", {"q": "email"}).content


# --- the SQLite fallback ---------------------------------------------------------------------


@pytest.mark.skipif(ON_POSTGRES, reason="the fallback notice is shown on SQLite only")
def test_sqlite_page_says_it_uses_a_simpler_search(client, histories):
    html = client.get("/search/", {"q": "email"}).content.decode()
    assert 'id="search-fallback"' in html
    # Said for the reader, not the developer: no database names, no advice to switch.
    assert "does not find “sharing”" in html
    assert "SQLite" not in html
    assert "PostgreSQL" not in html
    assert "<mark>email</mark>" in html.lower()


def test_fallback_matches_every_word_and_leaves_out_minus_words(histories):
    results = search._substring_search("EMAIL -advertising", SearchFilters())
    assert not results.full_text
    assert set(_hits(results)) == {"other.example"}
    assert (
        _hits(search._substring_search("email address", SearchFilters()))["acme.example"][
            0
        ].captures
        == 3
    )


def test_fallback_query_terms():
    assert query_terms('email "third parties" -cookies or "unbalanced') == (
        ["email", "third parties", "unbalanced"],
        ["cookies"],
    )
    assert query_terms("- or && ()") == ([], [])


def test_capture_filters_parse_days_months_and_years():
    filters = _filters({"from": "2009-04", "to": "2015"}).captures
    assert filters.captured_from == _at(2009, 4)
    assert filters.captured_before == datetime(2016, 1, 1, tzinfo=UTC)
    assert CaptureFilters().active is False


@pytest.mark.django_db
def test_snippets_show_the_readable_text_and_whole_words():
    filler = " ".join(f"word{n}" for n in range(60))
    body = (
        f"# Policy\n\n{filler} We use [cookies](https://example.com/cookies) under "
        f"**Privacy & Security** rules. {filler}\n"
    )
    make_snapshot(make_company(slug="snip.example"), body=body)

    results = search_sections("cookies")

    snippet = str(results.groups[0].hits[0].snippet)
    assert "cookies" in snippet
    assert "](" not in snippet
    assert "**" not in snippet
    assert "https://" not in snippet
    words = snippet.replace("…", " ").replace("<mark>", "").replace("</mark>", "").split()
    assert all(
        w.startswith("word") or w in "We use cookies under Privacy &amp; Security rules."
        for w in words
    )


# --- totals and pages ------------------------------------------------------------------------


@pytest.fixture
def many_passages() -> None:
    """Seven companies, each with its own wording of an email clause: seven passages."""
    for n in range(7):
        company = make_company(slug=f"c{n}.example", name=f"Company {n}")
        body = f"## Email {n}\n\nWe keep your email address, clause {n}.\n"
        make_snapshot(company, captured_at=_at(2010 + n, 1), body=body)


def test_results_say_the_total_and_page_through_it(many_passages, monkeypatch):
    monkeypatch.setattr(search, "RESULTS", 3)
    first, third = search_sections("email", page=1), search_sections("email", page=3)
    assert (first.total, first.hit_count, third.hit_count) == (7, 3, 1)
    assert first.pagination.paginator.num_pages == 3
    seen = [g.slug for p in (1, 2, 3) for g in search_sections("email", page=p).groups]
    assert sorted(seen) == [f"c{n}.example" for n in range(7)]  # each once, none lost


def test_the_page_shows_the_total_and_links_keep_every_filter(client, many_passages, monkeypatch):
    monkeypatch.setattr(search, "RESULTS", 3)
    params = {"q": "email", "from": "2010", "to": "2020", "company": "", "latest": "1"}
    html = client.get("/search/", {**params, "page": "2"}).content.decode()
    assert "7 passages match “email”. Showing 4–6, best first." in html
    assert "Page 2 of 3" in html
    next_link = "?q=email&amp;from=2010&amp;to=2020&amp;company=&amp;latest=1&amp;page=3"
    assert f'href="{next_link}" rel="next"' in html
    assert f'hx-get="{next_link}"' in html  # htmx swaps the results; the href works without JS
    assert 'href="?q=email&amp;from=2010&amp;to=2020&amp;company=&amp;latest=1&amp;page=1"' in html


def test_a_page_link_with_htmx_gets_the_results_region_alone(client, many_passages, monkeypatch):
    monkeypatch.setattr(search, "RESULTS", 3)
    response = client.get("/search/", {"q": "email", "page": "3"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="search-results"')
    assert "<header" not in html
    assert "Page 3 of 3" in html


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999"])
def test_odd_page_numbers_never_fail(client, many_passages, page):
    response = client.get("/search/", {"q": "email", "page": page})
    assert response.status_code == 200


def test_a_page_past_the_end_links_back_to_the_first(client, many_passages, monkeypatch):
    monkeypatch.setattr(search, "RESULTS", 3)
    html = client.get("/search/", {"q": "email", "page": "5"}).content.decode()
    assert "There are no more results" in html
    assert 'href="?q=email&amp;page=1"' in html


def test_a_truncated_search_says_how_many_sections_were_ranked(client, many_passages, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 3)
    html = client.get("/search/", {"q": "email"}).content.decode()
    assert "among the first 3 sections found" in html


def test_the_two_search_forms_are_told_apart(client):
    html = client.get("/search/").content.decode()
    assert 'role="search" aria-label="Search all policies"' in html
    assert 'role="search" aria-label="Search with filters"' in html
