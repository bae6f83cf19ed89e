"""Reading pages through Django's test client: content, query budgets, htmx fragments, 404s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from policies.comparing.comparison import compare_texts
from policies.importing.importer import import_paths
from policies.models import Company, Snapshot
from policies.reading.reader import rendered_sections
from policies.tests.factories import make_company, make_snapshot, make_text
from policies.tests.html_checks import injected_markup

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeds(sample_dir):
    import_paths([sample_dir / "seeds"])


@pytest.fixture
def corpus(sample_dir):
    import_paths([sample_dir / "corpus-sample"])


def _company_with_history(slug: str, captures: int, sections: int) -> Company:
    company = make_company(slug=slug)
    start = datetime(2010, 1, 1, tzinfo=UTC)
    for n in range(captures):
        body = "".join(
            f"## Part {s}\n\nClause {s} of version {n // 2}. We collect data.\n\n"
            for s in range(sections)
        )
        make_snapshot(company, captured_at=start + timedelta(days=30 * n), body=body)
    return company


def _main(response) -> str:
    """The page's main content (the CSRF token and CSP nonce differ on every response)."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def _warm(company: Company) -> None:
    """Render and compare once, as the first visitor would; budgets are for every later visit."""
    snapshots = list(company.snapshots.order_by("captured_at").select_related("text"))
    for s in snapshots:
        rendered_sections(s.text)
    for a, b in zip(snapshots, snapshots[1:], strict=False):
        compare_texts(a.text, b.text)


def test_home_lists_companies_with_counts_and_sparklines(client, seeds):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "livejournal.com" in html
    assert "liveprivates.com" in html
    assert 'class="spark"' in html
    assert "4 companies" in html


def test_home_filters_by_name_or_domain(client, seeds):
    html = client.get("/", {"q": "privates"}).content.decode()
    assert "liveprivates.com" in html
    assert "livejournal.com" not in html


def test_home_sorts_by_number_of_captures(client, seeds):
    html = client.get("/", {"sort": "captures"}).content.decode()
    assert html.index("livejournal.com") < html.index("liveprivates.com")


def test_home_htmx_request_returns_only_the_results_fragment(client, seeds):
    response = client.get("/", {"q": "journal"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="company-results"')
    assert "<html" not in html
    assert "livejournal.com" in html


@pytest.mark.parametrize("companies", [3, 12])
def test_home_query_count_is_flat(client, django_assert_num_queries, companies):
    for n in range(companies):
        _company_with_history(f"c{n}.example", captures=3, sections=2)
    # count for the paginator, the page of companies, their domains, their captures' lengths
    with django_assert_num_queries(4):
        assert client.get("/").status_code == 200


def test_company_page_lists_every_capture_with_change_sizes(client, corpus):
    response = client.get("/companies/psiphon3.com/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('id="capture-') == 3
    assert "first capture" in html
    assert "+" in html
    assert "words" in html
    assert "<svg" in html
    assert "<desc" in html
    assert "/companies/psiphon3.com/compare/20180518172700...20180721110427/" in html


def test_company_page_marks_identical_capture_unchanged(client, corpus):
    html = client.get("/companies/live5news.com/").content.decode()
    assert "unchanged" in html


@pytest.mark.parametrize(("captures", "sections"), [(3, 2), (9, 6)])
def test_company_page_query_count_is_flat(client, django_assert_num_queries, captures, sections):
    company = _company_with_history("flat.example", captures, sections)
    _warm(company)
    # the company's page version and its stored page (none yet: policies.pagecache), then
    # the company, its domains, its captures, the cached comparisons of adjacent captures,
    # the tag counts per capture and category (none here, so no lineage events are read),
    # and the rendered page stored
    with django_assert_num_queries(8):
        assert client.get(company.get_absolute_url()).status_code == 200


def test_capture_page_shows_title_toc_wayback_link_and_neighbours(client, seeds):
    response = client.get("/companies/livejournal.com/2005-06-22/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "LiveJournal.com Privacy Policy" in html
    assert 'href="https://web.archive.org/web/20050622043445id_/' in html
    assert 'class="toc"' in html
    assert "Previous capture (2004-12-31)" in html
    assert "Compare with previous" in html


def test_capture_resolves_by_timestamp_too(client, seeds):
    by_date = client.get("/companies/livejournal.com/2005-06-22/")
    by_timestamp = client.get("/companies/livejournal.com/20050622043445/")
    assert by_timestamp.status_code == 200
    assert _main(by_date) == _main(by_timestamp)


def test_two_captures_on_one_day_are_each_reachable_by_timestamp(client):
    company = make_company(slug="twice.example")
    make_snapshot(company, captured_at=datetime(2015, 1, 1, 1, tzinfo=UTC), body="Morning.\n")
    make_snapshot(company, captured_at=datetime(2015, 1, 1, 23, tzinfo=UTC), body="Evening.\n")
    assert "Morning." in client.get("/companies/twice.example/20150101010000/").content.decode()
    assert "Evening." in client.get("/companies/twice.example/20150101230000/").content.decode()
    # A date alone gives the policy as it stood at the end of that day.
    assert "Evening." in client.get("/companies/twice.example/2015-01-01/").content.decode()


@pytest.mark.parametrize(("captures", "sections"), [(2, 2), (8, 12)])
def test_capture_page_query_count_is_flat(client, django_assert_num_queries, captures, sections):
    company = _company_with_history("flat.example", captures, sections)
    _warm(company)
    snapshot = company.snapshots.order_by("captured_at")[captures // 2]
    # the company's page version and its stored page (none yet: policies.pagecache), then
    # the company, the capture with its text, its sections, the previous and the next capture,
    # the capture's tags (anonymous: no roles, no taxonomy), and the rendered page stored
    with django_assert_num_queries(9):
        assert client.get(snapshot.get_absolute_url()).status_code == 200


def test_rendered_html_is_computed_once_per_text(client, django_assert_num_queries):
    snapshot = make_snapshot()
    client.get(snapshot.get_absolute_url())
    snapshot.text.refresh_from_db()
    assert snapshot.text.render_version > 0
    html = list(snapshot.sections.values_list("html", flat=True))
    assert all(html)
    client.get(snapshot.get_absolute_url())
    assert list(snapshot.sections.values_list("html", flat=True)) == html


def test_compare_shows_word_level_changes_side_by_side(client, corpus):
    url = "/companies/livejournal.com/compare/2014-06-30...2017-04-03/"
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<del>" in html
    assert "<ins>" in html
    assert "applicable law" in html
    assert 'id="change-1"' in html


def test_compare_works_in_either_order_with_older_on_the_left(client, corpus):
    forward = client.get("/companies/livejournal.com/compare/2014-06-30...2017-04-03/")
    backward = client.get("/companies/livejournal.com/compare/2017-04-03...2014-06-30/")
    assert backward.status_code == 200
    assert _main(forward) == _main(backward)


def test_identical_captures_say_no_changes(client, corpus):
    html = client.get("/companies/live5news.com/compare/2015-11-15...2017-12-11/").content.decode()
    assert html.count("No changes") == 1
    assert "<del>" not in html
    assert "diff-row" not in html  # the policy is not printed twice below the message


def test_identical_captures_offer_the_nearest_captures_that_differ(client):
    company = make_company(slug="same.example")
    bodies = {2010: "## A\n\nOne.\n", 2011: "## A\n\nTwo.\n", 2012: "## A\n\nTwo.\n"}
    bodies |= {2013: "## A\n\nTwo.\n", 2014: "## A\n\nThree.\n"}
    for year, body in bodies.items():
        make_snapshot(company, captured_at=datetime(year, 1, 1, tzinfo=UTC), body=body)
    html = client.get("/companies/same.example/compare/2011-01-01...2013-01-01/").content.decode()
    assert "The nearest captures that differ" in html
    assert 'href="/companies/same.example/compare/20100101000000...20110101000000/"' in html
    assert 'href="/companies/same.example/compare/20130101000000...20140101000000/"' in html
    alone = make_company(slug="alone.example")
    make_snapshot(alone, captured_at=datetime(2010, 1, 1, tzinfo=UTC), body="## A\n\nOne.\n")
    html = client.get("/companies/alone.example/compare/2010-01-01...2010-01-01/").content.decode()
    assert "Every capture of" in html


def test_complete_rewrite_stays_readable_section_by_section(client, seeds):
    html = client.get(
        "/companies/livejournal.com/compare/2004-12-31...2005-06-22/"
    ).content.decode()
    assert "diff-row" in html
    assert html.count("<del>") < 200  # whole-block replacements, not word confetti


def test_moved_section_is_shown_as_moved(client, corpus):
    html = client.get("/companies/psiphon3.com/compare/2018-07-21...2019-12-09/").content.decode()
    assert "badge moved" in html


def test_changes_only_folds_unchanged_sections(client, corpus):
    html = client.get(
        "/companies/livejournal.com/compare/2014-06-30...2017-04-03/", {"changes": "only"}
    ).content.decode()
    assert 'id="comparison" class="changes-only"' in html


def test_compare_form_redirects_to_the_canonical_url(client, seeds):
    response = client.get(
        "/companies/livejournal.com/compare/", {"from": "2004-12-31", "to": "20050622043445"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/companies/livejournal.com/compare/2004-12-31...20050622043445/"


def test_compare_form_with_garbage_is_a_400_not_a_500(client, seeds):
    response = client.get("/companies/livejournal.com/compare/", {"from": "x", "to": "<y>"})
    assert response.status_code == 400


def test_compare_htmx_switch_returns_the_comparison_fragment(client, corpus):
    response = client.get(
        "/companies/psiphon3.com/compare/2018-05-18...2018-07-21/",
        headers={"HX-Request": "true", "HX-Target": "comparison"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="comparison"')
    assert (
        response["HX-Push-Url"]
        == "/companies/psiphon3.com/compare/20180518172700...20180721110427/"
    )


@pytest.mark.parametrize("sections", [2, 10])
def test_compare_query_count_is_flat(client, django_assert_num_queries, sections):
    company = _company_with_history("flat.example", 4, sections)
    _warm(company)
    a, b = company.snapshots.order_by("captured_at")[:3:2]
    # the company's page version and its stored page (none yet: policies.pagecache), then
    # the company, the two captures, the cached comparison, the older capture's tags,
    # the list of captures for the form, and the rendered page stored
    with django_assert_num_queries(9):
        assert (
            client.get(
                reverse("compare", args=[company.slug, a.timestamp, b.timestamp])
            ).status_code
            == 200
        )


@pytest.mark.parametrize(
    "url",
    [
        "/companies/nope.example/",
        "/companies/livejournal.com/2005-02-30/",
        "/companies/livejournal.com/99999999999999/",
        "/companies/livejournal.com/compare/2004-12-31...1999-01-01/",
        "/companies/livejournal.com/2005-06-22x/",
        "/companies/livejournal.com/compare/2004-12-31..2005-06-22/",
        "/companies/%00/",
    ],
)
def test_unknown_or_malformed_urls_answer_404(client, seeds, url):
    assert client.get(url).status_code == 404


def test_a_date_without_a_capture_goes_to_the_nearest_and_says_so(client):
    company = make_company(slug="near.example")
    for day in (datetime(2010, 1, 1, tzinfo=UTC), datetime(2010, 1, 11, tzinfo=UTC)):
        make_snapshot(company, captured_at=day, body=f"# Policy\n\nText of {day:%Y-%m-%d}.\n")
    for asked, shown in [
        ("2010-01-04", "2010-01-01"),
        ("2010-01-09", "2010-01-11"),
        ("1999-01-01", "2010-01-01"),
        ("20300101000000", "2010-01-11"),
    ]:
        response = client.get(f"/companies/near.example/{asked}/", follow=True)
        html = response.content.decode()
        assert response.redirect_chain[0][1] == 302
        assert f"near.example has no capture on {asked}; this is the nearest one, {shown}." in html
        assert f"Text of {shown}." in html


XSS_BODY = """# <script>alert('title')</script>

## Section <img src=x onerror=alert(1)>

<script>alert(1)</script>
<img src=x onerror="alert(2)">
<svg onload=alert(3)></svg>
<a href="javascript:alert(4)">click</a>
[link](javascript:alert(5)) [data](data:text/html,<script>alert(6)</script>)
<div hx-get="/admin/" hx-trigger="load">htmx</div>
<form action="/accounts/logout/" method="post"><button>go</button></form>
<style>body{display:none}</style>
<iframe src="javascript:alert(7)"></iframe>
[x](JaVaScRiPt:alert(8)) <javascript:alert(9)>
"""


def test_hostile_policy_stays_inert_in_reader_and_compare(client):
    company = make_company(slug="evil.example")
    make_snapshot(company, captured_at=datetime(2015, 1, 1, tzinfo=UTC), body=XSS_BODY)
    make_snapshot(
        company, captured_at=datetime(2016, 1, 1, tzinfo=UTC), body=XSS_BODY + "\nMore <b>x</b>\n"
    )
    pages = {
        "/companies/evil.example/2015-01-01/": '<article class="policy"',
        "/companies/evil.example/compare/2015-01-01...2016-01-01/": '<div id="comparison"',
        "/companies/evil.example/": "<table",
    }
    for url, start in pages.items():
        html = client.get(url).content.decode()
        content = html[html.index(start) : html.index("</main>")]
        # Hostile markup may be shown as text (escaped), never as elements or attributes.
        assert injected_markup(content) == [], url
        assert "alert(1)" in content or url.endswith("evil.example/"), url


def test_snapshot_sections_property_gives_the_body_back():
    text = make_text("# T\n\nIntro.\n\n## A\n\nOne.\n\n**Bold heading**\n\nTwo.\n")
    snapshot = make_snapshot(text=text)
    assert "".join(s.body for s in snapshot.sections) == text.body
    assert [s.heading for s in snapshot.sections] == ["Preamble", "A", "Bold heading"]
    assert Snapshot.objects.get().sections.count() == 3


def test_home_paginates_and_keeps_the_filter_and_sort(client):
    for n in range(55):
        make_company(slug=f"p{n:02d}.example")
    html = client.get("/", {"q": "example", "sort": "name"}).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?q=example&amp;sort=name&amp;page=2"' in html
    second = client.get("/", {"q": "example", "sort": "name", "page": 2}).content.decode()
    assert "p54.example" in second
    assert "p00.example" not in second


def test_compare_folds_long_unchanged_stretches_inside_a_changed_section(client):
    company = make_company(slug="fold.example")
    paragraphs = [f"Paragraph {n} says something of its own." for n in range(8)]
    old = "## Terms\n\n" + "\n\n".join(paragraphs) + "\n"
    new = old.replace("Paragraph 6 says", "Paragraph 6 now says")
    make_snapshot(company, captured_at=datetime(2015, 1, 1, tzinfo=UTC), body=old)
    make_snapshot(company, captured_at=datetime(2016, 1, 1, tzinfo=UTC), body=new)
    html = client.get("/companies/fold.example/compare/2015-01-01...2016-01-01/").content.decode()
    # One fold across both columns, so the two sides line up below it; it says what it holds.
    assert html.count("<summary>Show 6 unchanged paragraphs</summary>") == 1
    assert "<ins>now </ins>" in html
    assert "Paragraph 0 says" in html  # folded text is still in the page


def test_folds_line_up_when_the_sides_break_paragraphs_differently(client):
    company = make_company(slug="breaks.example")
    paragraphs = [f"Paragraph {n} says something of its own." for n in range(8)]
    old = "## Terms\n\n" + "\n\n".join(paragraphs) + "\n"
    # The newer side joins two paragraphs and changes the last one: 6 vs 7 paragraphs above.
    new = old.replace("own.\n\nParagraph 3", "own. Paragraph 3").replace("7 says", "7 now says")
    make_snapshot(company, captured_at=datetime(2015, 1, 1, tzinfo=UTC), body=old)
    make_snapshot(company, captured_at=datetime(2016, 1, 1, tzinfo=UTC), body=new)
    html = client.get("/companies/breaks.example/compare/2015-01-01...2016-01-01/").content.decode()
    assert html.count('<details class="fold">') == 1
    assert "<summary>Show 6 unchanged paragraphs</summary>" in html


def test_changed_sections_carry_an_inline_text_for_one_column(client):
    company = make_company(slug="inline.example")
    make_snapshot(
        company, captured_at=datetime(2015, 1, 1, tzinfo=UTC), body="## A\n\nWe keep logs.\n"
    )
    make_snapshot(
        company, captured_at=datetime(2016, 1, 1, tzinfo=UTC), body="## A\n\nWe sell logs.\n"
    )
    html = client.get("/companies/inline.example/compare/2015-01-01...2016-01-01/").content.decode()
    assert (
        '<div class="inline-side diff-text">We <del>keep </del><ins>sell </ins>logs.</div>' in html
    )
    assert '<p class="side-label">Older → newer</p>' in html
    assert "Removed words are <del>struck through</del>, added words <ins>underlined</ins>." in html
    assert 'aria-hidden="true"' not in html[html.index('id="comparison"') :]  # links in the heads


def test_a_heading_only_section_added_or_removed_shows_the_heading_as_the_change(client):
    company = make_company(slug="heading.example")
    old = "## A\n\nText.\n\n## Gone\n"
    new = "## A\n\nText.\n\n## New heading\n\n## B\n\nMore text here.\n"
    make_snapshot(company, captured_at=datetime(2015, 1, 1, tzinfo=UTC), body=old)
    make_snapshot(company, captured_at=datetime(2016, 1, 1, tzinfo=UTC), body=new)
    html = client.get(
        "/companies/heading.example/compare/2015-01-01...2016-01-01/"
    ).content.decode()
    assert "<h2><ins>New heading</ins>" in html
    assert "A heading with no text under it was added." in html
    assert "<h2><del>Gone</del>" in html
    assert "A heading with no text under it was removed." in html


def test_numbers_are_written_one_way_in_chart_and_table(client):
    company = make_company(slug="long.example")
    long_body = "## Terms\n\n" + " ".join(f"word{n}" for n in range(2221)) + "\n"
    make_snapshot(company, captured_at=datetime(2018, 5, 18, tzinfo=UTC), body=long_body)
    make_snapshot(
        company, captured_at=datetime(2019, 12, 9, tzinfo=UTC), body=long_body + "\nMore.\n"
    )
    html = client.get("/companies/long.example/").content.decode()
    assert '<td class="num">2,222</td>' in html
    assert "2,222 words" in html  # the chart's description says it the same way
    assert ">2222<" not in html
    assert "Words in the policy" in html
    assert "Words changed since the previous capture" in html
