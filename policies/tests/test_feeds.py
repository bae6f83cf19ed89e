"""Atom feeds of policy changes, parsed by a feed library (feedparser)."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import pytest

from annotations.tests.factories import make_user, tag_text
from policies.models import Snapshot
from policies.permissions import REVIEWER
from policies.tests.factories import make_company, make_snapshot

ONE = "# Privacy\n\nWe collect your email address.\n\n## Sharing\n\nWe share it with no one.\n"
TWO = "# Privacy\n\nWe collect your email address.\n\n## Sharing\n\nWe share it with advertisers.\n"


def _history(slug: str, year: int) -> list[Snapshot]:
    company = make_company(slug=slug)
    bodies = [ONE, TWO, TWO]  # changed, then unchanged
    snapshots = [
        make_snapshot(company, captured_at=datetime(year, month, 1, tzinfo=UTC), body=body)
        for month, body in zip([1, 2, 3], bodies, strict=True)
    ]
    Snapshot.objects.refresh_unchanged_flags([company.pk])
    return snapshots


def _parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


@pytest.mark.django_db
def test_a_company_feed_has_one_entry_per_changed_capture(client):
    _history("a.example", 2015)
    feed = _parse(client, "/companies/a.example/feed.atom")
    assert len(feed.entries) == 1  # the first capture is no change; the third is unchanged
    entry = feed.entries[0]
    assert entry.link.endswith("/companies/a.example/compare/20150101000000...20150201000000/")
    assert "1 words added, 2 removed" in entry.summary
    assert "Sections changed (1): Sharing" in entry.summary
    assert entry.updated.startswith("2015-02-01")


@pytest.mark.django_db
def test_the_changes_feed_is_newest_first_and_filters_by_company(client):
    _history("a.example", 2015)
    _history("b.example", 2016)
    _history("c.example", 2014)
    feed = _parse(client, "/feeds/changes.atom")
    assert [e.title.split(":")[0] for e in feed.entries] == ["b.example", "a.example", "c.example"]
    only = _parse(client, "/feeds/changes.atom?company=a.example,c.example")
    assert [e.title.split(":")[0] for e in only.entries] == ["a.example", "c.example"]


@pytest.mark.django_db
def test_a_bad_filter_is_refused(client):
    response = client.get("/feeds/changes.atom?from=soon")
    assert response.status_code == 400
    assert response.content.decode().startswith("from:")


@pytest.mark.django_db
def test_an_entry_names_the_tags_on_changed_clauses(client):
    first = _history("a.example", 2015)[0]
    tag_text(first, "no one", make_user("tagger", REVIEWER), slug="third-party-sharing-collection")
    entry = _parse(client, "/companies/a.example/feed.atom").entries[0]
    assert "Tags on changed clauses: Third Party Sharing/Collection (changed)" in entry.summary


@pytest.mark.django_db
def test_the_changes_feed_costs_a_query_per_entry_at_most(client, django_assert_max_num_queries):
    _history("a.example", 2015)
    client.get("/feeds/changes.atom")  # stores the comparisons
    # The captures (1), the stored comparisons (1), then per entry its tags (1 each: here 1).
    with django_assert_max_num_queries(3):
        client.get("/feeds/changes.atom")
