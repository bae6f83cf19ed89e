"""What the API reads: the capture in force on a date, captures with their changes, sections,
comparisons, tags, and pages that cost the same number of queries however much data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from annotations.tests.factories import make_user
from policies.permissions import CURATOR
from policies.tests.factories import make_company, make_snapshot

COMPANY = "/api/v1/companies/example.com"


@pytest.mark.parametrize(
    ("at", "timestamp"),
    [
        ("2018-01-02", "20180102100000"),  # the first capture's own day
        ("2019-03-03", "20180102100000"),  # the day before the second capture
        ("2019-03-04", "20190304000000"),  # captured at the very start of the day
        ("2019-06-30", "20190630235959"),  # captured in the day's last second
        ("2019-06", "20190630235959"),  # a month: its end
        ("2030-01-01", "20190630235959"),  # after the last capture
    ],
)
def test_the_policy_in_force_is_the_latest_captured_by_the_end_of_the_day(
    client, history, at, timestamp
):
    body = client.get(f"{COMPANY}/policy?at={at}").json()
    assert body["timestamp"] == timestamp
    assert [s["heading"] for s in body["sections"]] == ["Preamble", "Sharing"]


def test_before_the_first_capture_there_is_no_policy(client, history):
    response = client.get(f"{COMPANY}/policy?at=2018-01-01")
    assert response.status_code == 404
    assert response.json()["first_capture"] == "2018-01-02"


def test_without_a_date_the_policy_is_todays(client, history):
    body = client.get(f"{COMPANY}/policy").json()
    assert body["timestamp"] == "20190630235959"
    assert body["at"] == f"{datetime.now(UTC).date()}"


def test_captures_carry_the_change_since_the_previous_one(client, history):
    items = client.get(f"{COMPANY}/captures").json()["items"]
    first, changed, same = items
    assert (first["words_added"], first["unchanged"], first["comparison_url"]) == (
        None,
        False,
        None,
    )
    # Added "and your location", "advertisers"; removed "no one".
    assert (changed["words_added"], changed["words_removed"]) == (4, 2)
    assert changed["previous_timestamp"] == "20180102100000"
    assert not changed["unchanged"]
    assert (same["unchanged"], same["words_added"], same["words_removed"]) == (True, 0, 0)
    assert first["archive_url"].startswith("https://web.archive.org/web/20180102100000")


def test_sections_give_markdown_readable_text_and_html_on_request(client, history):
    plain = client.get(f"{COMPANY}/captures/20190304000000").json()["sections"][1]
    assert plain["markdown"].startswith("## Sharing")
    assert plain["text"] == "Sharing\nWe share it with advertisers."
    assert plain["html"] is None
    assert plain["words"] == 6
    rendered = client.get(f"{COMPANY}/captures/20190304000000?html=1").json()["sections"][1]
    assert "advertisers" in rendered["html"]


def test_a_comparison_lists_aligned_sections_with_word_operations(client, history):
    body = client.get(f"{COMPANY}/compare/20180102100000/20190304000000").json()
    assert (body["words_added"], body["words_removed"], body["identical"]) == (4, 2, False)
    sharing = next(row for row in body["rows"] if row["new_heading"] == "Sharing")
    assert {"op": "insert", "text": "advertisers"} in sharing["new_parts"]
    assert {"op": "delete", "text": "no one"} in sharing["old_parts"]


def test_cursor_pages_walk_the_whole_list_once(client, db):
    for n in range(7):
        make_company(slug=f"c{n}.example", name="Same name" if n % 2 else f"Name {n}")
    seen, url = [], "/api/v1/companies?limit=3"
    while url:
        page = client.get(url).json()
        seen += [c["slug"] for c in page["items"]]
        url = page["next"]
    assert sorted(seen) == [f"c{n}.example" for n in range(7)]
    assert len(seen) == 7


def test_companies_filter_by_name_or_domain(client, history):
    make_company(slug="other.example", name="Other")
    assert [c["slug"] for c in client.get("/api/v1/companies?q=exam").json()["items"]] == [
        "example.com",
        "other.example",
    ]
    by_domain = client.get("/api/v1/companies?domain=OTHER.example").json()["items"]
    assert [c["slug"] for c in by_domain] == ["other.example"]


def test_tags_have_the_csv_columns_and_the_export_filters(client, bearer, tagged):
    from annotations.exports.export import CSV_COLUMNS

    items = client.get("/api/v1/tags?from=2019-03&to=2019-03", **bearer).json()["items"]
    assert len(items) == 1
    assert tuple(items[0]) == CSV_COLUMNS
    assert items[0]["origin"] == "original"
    assert items[0]["capture_timestamp"] == "20190304000000"


def test_running_campaign_tags_are_for_curators_only(client, bearer, history):
    from annotations.campaigns.campaigns import CampaignSpec, create_campaign
    from annotations.models import Annotation
    from annotations.tests.factories import tag_text
    from policies.permissions import REVIEWER

    annotator = make_user("anna", REVIEWER)
    create_campaign(
        CampaignSpec(slug="s", annotators=["anna"], companies=["example.com"], per_capture=1)
    )
    tag = tag_text(history[0], "email", annotator, slug="data-retention")
    assert Annotation.objects.get(pk=tag.pk).campaign is not None
    assert client.get("/api/v1/tags?status=any", **bearer).json()["items"] == []
    client.force_login(make_user("cora", CURATOR))
    items = client.get("/api/v1/tags?status=any").json()["items"]
    assert items
    assert {t["annotator"] for t in items} == {"anna"}  # the tag and its copies


def _grow(first: int, n: int) -> None:
    start = datetime(2010, 1, 1, tzinfo=UTC)
    for i in range(first, first + n):
        company = make_company(slug=f"grow{i}.example")
        for j in range(2):
            when = start + timedelta(days=30 * j + i)
            make_snapshot(company, captured_at=when, body=f"# P\n\nWords {i} {j}.\n")


def _count(client, url: str, headers: dict) -> int:
    client.get(url, **headers)  # comparisons are computed and stored on the first read
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **headers).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/companies",
        "/api/v1/companies/grow0.example/captures",
        "/api/v1/tags?status=any",
    ],
)
def test_list_queries_stay_flat_as_the_data_grows(client, bearer, tagged, url):
    # With a token: the token (1), updating last use at most once a minute (0 here), the
    # rate count (1; inside the test's transaction also its savepoint and release, and on
    # PostgreSQL the asynchronous-commit setting), then
    # companies: the page (1) and their domains (1); captures: the company (1), the page with
    # each capture's previous one (1), the stored comparisons (1); tags: running campaigns (1),
    # the page's ids (1) and its rows (1). The same at both sizes.
    _grow(0, 2)
    small = _count(client, url, bearer)
    _grow(2, 12)
    assert _count(client, url, bearer) == small
    assert small <= 8 + (connection.vendor == "postgresql")


def test_record_urls_are_the_routes_urls(rf, history):
    # The records fill cached route templates instead of reversing each URL: the same URLs.
    from api.records import _absolute, _company_url

    request = rf.get("/api/v1/companies")
    for slug in ("example.com", "a b@c:d+e.org", "90000000000001.example"):
        for name, tokens in [
            ("api:company", ()),
            ("company_detail", ()),
            ("api:capture", ("20190304000000",)),
            ("snapshot_detail", ("2019-03-04",)),
            ("api:comparison", ("20180102100000", "20190304000000")),
        ]:
            assert _company_url(request, name, slug, *tokens) == _absolute(
                request, name, slug, *tokens
            )
