"""The API's lists cost a fixed number of queries, the same with a little data and with more:
each count below is checked at two sizes, and each query is named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from annotations.tests.factories import make_user, tag_text
from policies.models import Snapshot
from policies.permissions import REVIEWER
from policies.tests.factories import make_company, make_snapshot

# Counting one request for the rate limit: one statement (on PostgreSQL it also turns off the
# commit's wait for the disk).
RATE = 1
TOKEN = 1  # the token with its user (its last use is written at most once a minute)


def _grow(first: int, companies: int, tagger) -> None:
    """`companies` more companies with three captures each (two wordings), one of them tagged."""
    start = datetime(2010, 1, 1, tzinfo=UTC)
    for i in range(first, first + companies):
        company = make_company(slug=f"grow{i}.example")
        captures = [
            make_snapshot(
                company,
                captured_at=start + timedelta(days=30 * j + i),
                body=f"# P\n\nWe keep words {i} {min(j, 1)} for a year.\n",
            )
            for j in range(3)
        ]
        Snapshot.objects.refresh_unchanged_flags([company.pk])
        tag_text(captures[1], "for a year", tagger)


def _sizes(client, url: str, headers: dict, tagger):
    """Yield twice: with 2 grown companies, then with 14; the URL is read once before each
    (the first read stores the comparisons and the token's last use)."""
    _grow(0, 2, tagger)
    client.get(url, **headers)
    yield
    _grow(2, 12, tagger)
    client.get(url, **headers)
    yield


@pytest.fixture
def tagger(db):
    return make_user("tagger", REVIEWER)


def test_companies_cost_the_same_queries_at_any_size(
    client, bearer, tagger, django_assert_num_queries
):
    limit = 1
    url = f"/api/v1/companies?limit={limit}"
    for _ in _sizes(client, url, bearer, tagger):
        # token, rate, the page (1) and its companies' domains (1)
        with django_assert_num_queries(TOKEN + RATE + 2):
            body = client.get(url, **bearer).json()
        assert len(body["items"]) == limit
        assert body["next"]


def test_a_companys_captures_cost_the_same_queries_at_any_size(
    client, bearer, tagger, django_assert_num_queries
):
    url = "/api/v1/companies/grow1.example/captures"
    for _ in _sizes(client, url, bearer, tagger):
        # token, rate, the page with each capture's previous one (1), the stored change sizes
        # (1); the company itself is looked up only for an empty page
        with django_assert_num_queries(TOKEN + RATE + 2):
            body = client.get(url, **bearer).json()
        assert [c["unchanged"] for c in body["items"]] == [False, False, True]


def test_tags_cost_the_same_queries_at_any_size(client, bearer, tagger, django_assert_num_queries):
    limit = 3
    url = f"/api/v1/tags?limit={limit}"
    for _ in _sizes(client, url, bearer, tagger):
        # token, rate, the caller's roles (1), the running campaigns (1), the page's ids (1),
        # their columns (1)
        with django_assert_num_queries(TOKEN + RATE + 4):
            body = client.get(url, **bearer).json()
        assert len(body["items"]) == limit
        assert body["next"]


def test_a_company_without_captures_has_an_empty_list(client, db):
    make_company(slug="empty.example")
    body = client.get("/api/v1/companies/empty.example/captures").json()
    assert body == {"items": [], "next_cursor": None, "next": None}
