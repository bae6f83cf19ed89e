"""Tagging and review through HTTP: fragments, conflicts, roles, and query budgets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from annotations.models import Annotation
from annotations.tagging.tags import review_tag
from annotations.taxonomy import chip_colour
from annotations.tests.factories import make_user, tag_text
from annotations.tests.test_lineage import RETENTION, SHARING, V1, V2, V3
from policies.models import Company
from policies.permissions import CURATOR, IMPORTER, RESEARCHER, REVIEWER
from policies.reading.reader import rendered_sections
from policies.tests.factories import make_company, make_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    company = make_company(slug="acme.example")
    return [
        make_snapshot(company, captured_at=datetime(2010 + n, 1, 1, tzinfo=UTC), body=body)
        for n, body in enumerate([V1, V2, V3])
    ]


def _form(snapshot, needle: str, slug: str = "data-retention") -> dict:
    for section in rendered_sections(snapshot.text):
        at = section.plain.find(needle)
        if at >= 0:
            return {
                "snapshot": snapshot.pk,
                "section": section.pk,
                "start": at,
                "end": at + len(needle),
                "quote": needle,
                "category": slug,
            }
    raise AssertionError(needle)


def test_reviewer_tags_a_clause_and_gets_the_section_fragment(client, history):
    client.force_login(make_user("rev", REVIEWER))
    response = client.post(
        reverse("tag_create"), _form(history[0], SHARING), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="section"')
    tag = Annotation.objects.get(kind="original")
    assert f'data-annotation="{tag.pk}"' in html
    assert 'data-category="data-retention"' in html
    assert "[Data Retention]" in html  # what a screen reader hears


def test_tagging_without_js_redirects_back_to_the_tag(client, history):
    client.force_login(make_user("rev", REVIEWER))
    response = client.post(reverse("tag_create"), _form(history[0], SHARING))
    tag = Annotation.objects.get(kind="original")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#tag-{tag.pk}")


def test_carried_tag_shows_on_the_other_capture(client, history):
    tag_text(history[0], SHARING, make_user(), "third-party-sharing-collection")
    html = client.get(history[2].get_absolute_url()).content.decode()
    assert 'data-category="third-party-sharing-collection"' in html
    assert "carried from" in html
    assert "2010-01-01" in html


def test_proposed_tag_shows_why_with_score_and_old_wording(client, history):
    tag_text(history[0], RETENTION, make_user())
    proposal = Annotation.objects.get(kind="proposed")
    html = client.get(history[1].get_absolute_url()).content.decode()
    assert f"({round(proposal.similarity)}% of words alike)" in html
    assert f'it read <q class="old-wording">{RETENTION}</q>' in html


TAGGER_MESSAGES = '<div id="tag-messages" role="alert" aria-live="assertive" hx-swap-oob="true">'


def test_tagging_ones_proposed_copy_confirms_it_and_says_so(client, history):
    reviewer = make_user("rev", REVIEWER)
    tag_text(history[0], RETENTION, reviewer)
    proposal = Annotation.objects.get(kind="proposed", snapshot=history[1])
    client.force_login(reviewer)
    response = client.post(
        reverse("tag_create"), _form(history[1], proposal.quote), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="section"')
    # Out-of-band, the page's message area: what happened to the tag already there.
    assert (
        f'{TAGGER_MESSAGES}<p class="flash success">Your Data Retention tag had been '
        "proposed here from 2010-01-01; tagging the clause confirmed it. "
        "Confirmed: Data Retention on acme.example, 2011-01-01.</p></div>"
    ) in html
    assert "confirmed in review" in html
    proposal.refresh_from_db()
    assert proposal.status == Annotation.Status.ACTIVE
    assert Annotation.objects.filter(snapshot=history[1]).count() == 1


def test_tagging_ones_proposed_copy_without_js_says_so_on_the_page(client, history):
    reviewer = make_user("rev", REVIEWER)
    tag_text(history[0], RETENTION, reviewer)
    proposal = Annotation.objects.get(kind="proposed", snapshot=history[1])
    client.force_login(reviewer)
    response = client.post(reverse("tag_create"), _form(history[1], proposal.quote))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#tag-{proposal.pk}")
    html = client.get(response["Location"]).content.decode()
    assert "Confirmed: Data Retention on acme.example, 2011-01-01." in html
    proposal.refresh_from_db()
    assert proposal.status == Annotation.Status.ACTIVE


def test_tagging_a_clause_tagged_already_says_so(client, history):
    author = make_user("rev", REVIEWER)
    tag_text(history[0], SHARING, author)
    client.force_login(author)
    response = client.post(
        reverse("tag_create"), _form(history[1], SHARING), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        f'{TAGGER_MESSAGES}<p class="flash success">Already tagged: this clause has your tag '
        "Data Retention, carried from 2010-01-01. No second tag was made.</p></div>"
    ) in html
    assert Annotation.objects.filter(snapshot=history[1]).count() == 1


def test_a_new_tag_empties_the_message_area(client, history):
    client.force_login(make_user("rev", REVIEWER))
    response = client.post(
        reverse("tag_create"), _form(history[0], SHARING), headers={"HX-Request": "true"}
    )
    assert f"{TAGGER_MESSAGES}</div>" in response.content.decode()


def test_a_confirmed_proposal_no_longer_says_it_awaits_review(client, history):
    tag_text(history[0], RETENTION, make_user())
    proposal = Annotation.objects.get(kind="proposed")
    review_tag(proposal.pk, make_user("rev", REVIEWER), proposal.version, "confirm")
    html = client.get(history[1].get_absolute_url()).content.decode()
    assert "proposed (clause changed), confirmed in review" in html  # what a screen reader hears
    assert "% of words alike), confirmed in review; it read" in html
    assert "awaiting" not in html


def test_mismatched_quote_is_refused_with_a_reason(client, history):
    client.force_login(make_user("rev", REVIEWER))
    form = _form(history[0], SHARING) | {"quote": "something else entirely, same length? no"}
    response = client.post(reverse("tag_create"), form, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "quote does not match" in response.content.decode()
    assert response["HX-Retarget"] == "#tag-messages"
    assert not Annotation.objects.exists()


def test_stale_edit_answers_409_with_the_current_state(client, history):
    author = make_user("rev", REVIEWER)
    tag = tag_text(history[0], SHARING, author)
    client.force_login(author)
    url = reverse("tag_edit", args=[tag.pk])
    first = client.post(url, {"version": tag.version, "category": "other", "note": "mine"})
    assert first.status_code == 302
    second = client.post(
        url,
        {"version": tag.version, "category": "data-security", "note": ""},
        headers={"HX-Request": "true"},
    )
    assert second.status_code == 409
    assert "Other" in second.content.decode()
    tag.refresh_from_db()
    assert tag.category.slug == "other"


@pytest.mark.parametrize(
    ("roles", "status"),
    [((), 403), ((RESEARCHER,), 403), ((IMPORTER,), 403), ((REVIEWER,), 302), ((CURATOR,), 302)],
)
def test_only_reviewers_and_curators_tag(client, history, roles, status):
    client.force_login(make_user("someone", *roles))
    assert client.post(reverse("tag_create"), _form(history[0], SHARING)).status_code == status


def test_anonymous_tagging_goes_to_login(client, history):
    response = client.post(reverse("tag_create"), _form(history[0], SHARING))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_post_without_csrf_token_is_refused(history):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("rev", REVIEWER))
    assert client.post(reverse("tag_create"), _form(history[0], SHARING)).status_code == 403


def test_review_queue_lists_proposals_with_a_word_diff(client, history):
    tag_text(history[0], RETENTION, make_user())
    client.force_login(make_user("rev", REVIEWER))
    html = client.get(reverse("review_list")).content.decode()
    assert "1 tag waiting" in html
    assert "<ins>server </ins>" in html or "<ins>server" in html
    filtered = client.get(reverse("review_list"), {"category": "data-security"}).content.decode()
    assert "0 tags waiting" in filtered


def test_review_action_confirms_through_htmx(client, history):
    tag_text(history[0], RETENTION, make_user())
    proposal = Annotation.objects.get(kind="proposed")
    client.force_login(make_user("rev", REVIEWER))
    response = client.post(
        reverse("review_action", args=[proposal.pk]),
        {"version": proposal.version, "action": "confirm"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == Annotation.Status.ACTIVE


@pytest.mark.parametrize("tags", [5, 60])
def test_reader_query_count_is_flat_with_many_tags(client, django_assert_num_queries, tags):
    company = make_company(slug="many.example")
    body = "## Terms\n\n" + " ".join(f"Clause number {n} says something." for n in range(600))
    first = make_snapshot(company, captured_at=datetime(2015, 1, 1, tzinfo=UTC), body=body)
    make_snapshot(
        company, captured_at=datetime(2015, 1, 1, tzinfo=UTC) + timedelta(days=9), body=body
    )
    author = make_user("rev", REVIEWER)
    for n in range(tags):
        tag_text(first, f"Clause number {n} says something.", author)
    client.force_login(author)
    client.get(first.get_absolute_url())
    Company.objects.pages_changed([company.pk])  # render again, from the data warmed above
    # session, user, the user's groups, the company's and the site's page versions, company,
    # capture, sections, previous, next, the categories for the picker and the suggestions,
    # the user's campaign work on this capture (blind campaigns offer no suggestions), tags;
    # suggestions: the capture's indexed clauses, tags on the same wording, tags on
    # near-identical wording (MinHash bands), the category model's latest ready version
    # (none), rejections; the review queue's size for the header. (A tagger's page is kept
    # in memory only: no query stores it.)
    with django_assert_num_queries(18):
        response = client.get(first.get_absolute_url())
    assert response.content.decode().count("data-annotation=") >= tags
    # then served as stored: session, user, groups, the versions
    with django_assert_num_queries(4):
        again = client.get(first.get_absolute_url())
    assert again.content.decode().count("data-annotation=") >= tags


@pytest.mark.parametrize("proposals", [1, 8])
def test_review_queue_query_count_is_flat(client, django_assert_num_queries, proposals):
    company = make_company(slug="q.example")
    author = make_user("rev", REVIEWER)
    base = datetime(2010, 1, 1, tzinfo=UTC)
    first = make_snapshot(company, captured_at=base, body=V1)
    for n in range(proposals):
        make_snapshot(company, captured_at=base + timedelta(days=n + 1), body=V2 + f"\nv{n}\n")
    tag_text(first, RETENTION, author)
    client.force_login(author)
    # session, user, groups, count, page of proposals, companies and categories for the filters,
    # the review queue's size for the header
    with django_assert_num_queries(8):
        assert client.get(reverse("review_list")).status_code == 200


def test_taxonomy_css_gives_each_category_its_colour(client):
    response = client.get(reverse("taxonomy_css"))
    assert response["Content-Type"].startswith("text/css")
    # The chip's background is the colour darkened to WCAG AA contrast with white text.
    chip = chip_colour("#ea580c")
    assert chip != "#ea580c"
    css = response.content.decode()
    assert f".tag-data-retention {{ --tag: #ea580c; --tag-chip: {chip}; }}" in css


@pytest.mark.parametrize("extra_captures", [0, 6])
def test_company_page_shows_practice_timeline_with_flat_queries(
    client, django_assert_num_queries, history, extra_captures
):
    company = history[0].company
    for n in range(extra_captures):
        make_snapshot(company, captured_at=datetime(2013 + n, 1, 1, tzinfo=UTC), body=V3)
    tag_text(history[0], RETENTION, make_user())
    tag_text(history[0], SHARING, make_user("other"), "third-party-sharing-collection")
    client.get(company.get_absolute_url())
    Company.objects.pages_changed([company.pk])  # render again, from the data warmed above
    # the company's page version and its stored page (none now: policies.pagecache), then
    # company, domains, captures, cached comparisons, tag counts, lineage events, and the
    # rendered page stored
    with django_assert_num_queries(9):
        html = client.get(company.get_absolute_url()).content.decode()
    assert "Practices over time" in html
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Data Retention clause removed between 2011-01-01 and 2012-01-01" in text


def test_compare_names_the_tags_on_changed_clauses(client, history):
    tag_text(history[0], RETENTION, make_user())
    url = reverse("compare", args=["acme.example", "2010-01-01", "2011-01-01"])
    html = client.get(url).content.decode()
    assert "this tagged clause was changed or deleted" in html
    assert 'data-category="data-retention"' in html


def test_login_required_setting_closes_reading_to_anonymous_visitors(client, settings, history):
    url = history[0].get_absolute_url()
    assert client.get(url).status_code == 200
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    client = Client()  # a new client loads the changed middleware
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200


def test_tag_page_shows_editor_and_copies_with_flat_queries(
    client, django_assert_num_queries, history
):
    author = make_user("rev", REVIEWER)
    tag = tag_text(history[0], SHARING, author, "third-party-sharing-collection")
    client.force_login(author)
    url = reverse("tag_detail", args=[tag.pk])
    # session, user, groups, the tag, categories, the category's attributes, their values,
    # the tag's copies, the review queue's size for the header
    with django_assert_num_queries(9):
        html = client.get(url).content.decode()
    assert "Third Party Sharing" in html
    assert 'name="attr-third-party-entity"' in html
    assert html.count("Carried") == 2  # one copy in each of the two later captures
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div class="tag-editor"')


def test_attribute_values_are_checked_against_the_taxonomy(client, history):
    author = make_user("rev", REVIEWER)
    tag = tag_text(history[0], SHARING, author, "third-party-sharing-collection")
    client.force_login(author)
    url = reverse("tag_edit", args=[tag.pk])
    ok = {
        "version": 1,
        "category": "third-party-sharing-collection",
        "note": "",
        "attr-third-party-entity": "Named third party",
    }
    assert client.post(url, ok).status_code == 302
    tag.refresh_from_db()
    assert tag.attributes == {"third-party-entity": "Named third party"}
    bad = ok | {"version": 2, "attr-third-party-entity": "Aliens"}
    response = client.post(url, bad)
    assert response.status_code == 400
    assert "Aliens" in response.content.decode()


def test_tag_editor_follows_a_category_change_with_its_attributes(client, history):
    author = make_user("rev", REVIEWER)
    tag = tag_text(history[0], SHARING, author, "third-party-sharing-collection")
    client.force_login(author)
    html = client.get(
        reverse("tag_detail", args=[tag.pk]),
        {"category": "data-retention"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'name="attr-retention-period"' in html
    assert 'name="attr-third-party-entity"' not in html


def test_a_partial_word_is_refused_with_the_word_named(client, history):
    client.force_login(make_user("rev", REVIEWER))
    form = _form(history[0], SHARING)
    form.update(start=form["start"] + 1, quote=SHARING[1:])  # "e share data ..."
    response = client.post(reverse("tag_create"), form, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#tag-messages"
    assert "the selection starts inside the word “We”: select whole words" in (
        response.content.decode()
    )
    form = _form(history[0], SHARING[:-3])  # "... U.S. fir"
    response = client.post(reverse("tag_create"), form, headers={"HX-Request": "true"})
    assert "the selection ends inside the word “firms”" in response.content.decode()
    assert not Annotation.objects.exists()


def test_headings_are_taggable_and_the_export_has_them(client, history):
    """The decision (README, "Tagging clauses"): a heading is a clause like any other."""
    client.force_login(make_user("cur", CURATOR))
    response = client.post(
        reverse("tag_create"), _form(history[0], "Retention"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    tag = Annotation.objects.get(kind="original", quote="Retention")
    html = client.get(history[0].get_absolute_url()).content.decode()
    heading = re.search(r'id="retention".*?(<h2>.*?</h2>)', html, re.S).group(1)
    assert (
        f'<mark class="tag tag-data-retention tag-original" data-annotation="{tag.pk}"' in heading
    )
    export = client.get("/export/annotations.jsonl")
    exported = b"".join(export.streaming_content).decode()
    assert '"exact":"Retention"' in exported
