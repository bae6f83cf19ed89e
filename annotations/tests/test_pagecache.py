"""Stored pages (policies.pagecache) and tags: a tag, a review or a campaign serves the pages
anew, and a signed-in user's page (their blind-campaign tags) never reaches anyone else."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.campaigns.campaigns import CampaignSpec, create_campaign, mark_done
from annotations.models import Annotation, TaggedWording
from annotations.suggesting.suggestions import suggestions_for
from annotations.tagging.tags import review_tag
from annotations.tests.factories import make_user, tag_text
from annotations.tests.test_lineage import RETENTION, SHARING, V1, V2
from annotations.tests.test_suggestions import POLICY_A, POLICY_B, SHARED
from annotations.tests.test_views import _form
from policies import pagecache
from policies.models import Company, StoredPage
from policies.permissions import RESEARCHER, REVIEWER
from policies.reading.reader import rendered_sections
from policies.tests.factories import make_company, make_snapshot
from policies.tests.test_pagecache import _wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    company = make_company(slug="acme.example")
    return [
        make_snapshot(company, captured_at=datetime(2010 + n, 1, 1, tzinfo=UTC), body=body)
        for n, body in enumerate([V1, V2])
    ]


def _pages(history) -> list[str]:
    old, new = history
    return [
        old.company.get_absolute_url(),
        old.get_absolute_url(),
        reverse("compare", args=[old.company.slug, old.timestamp, new.timestamp]),
    ]


def test_tagging_a_clause_shows_on_the_next_anonymous_request(client, history):
    anonymous = Client()
    before = {url: anonymous.get(url) for url in _pages(history)}
    assert all('data-category="data-retention"' not in r.content.decode() for r in before.values())
    client.force_login(make_user("rev", REVIEWER))
    assert client.post(reverse("tag_create"), _form(history[0], RETENTION)).status_code == 302

    capture = anonymous.get(history[0].get_absolute_url())
    assert 'data-category="data-retention"' in capture.content.decode()
    for url, response in before.items():
        again = anonymous.get(url, headers={"If-None-Match": response["ETag"]})
        assert again.status_code == 200, url  # not 304: the stored page is out of date


def test_a_review_decision_shows_on_the_next_anonymous_request(client, history):
    tag_text(history[0], RETENTION, make_user())
    proposal = Annotation.objects.get(kind="proposed")
    url = history[1].get_absolute_url()
    assert "awaiting <a" in client.get(url).content.decode()
    review_tag(proposal.pk, make_user("rev", REVIEWER), proposal.version, "dismiss")
    assert "awaiting <a" not in client.get(url).content.decode()


@pytest.mark.parametrize("role", [REVIEWER, RESEARCHER])
def test_signed_in_pages_are_never_the_anonymous_copy(history, role):
    anonymous, member = Client(), Client()
    member.force_login(make_user("member", role))
    url = history[0].get_absolute_url()
    stored = anonymous.get(url)
    member.get(url)  # the first page a browser shows after signing in sets the CSRF cookie
    mine = member.get(url)
    assert mine["Cache-Control"] == "private, no-cache"
    assert mine.get("ETag") != stored["ETag"]
    assert member.get(url, headers={"If-None-Match": stored["ETag"]}).status_code == 200
    # the tagging controls are the reviewer's alone
    assert ("tag-picker" in mine.content.decode()) == (role == REVIEWER)
    assert "tag-picker" not in anonymous.get(url).content.decode()


def test_taggers_pages_are_kept_in_memory_and_others_in_the_table_too(history):
    """A tagger's capture page offers suggestions drawn from every company's tags: it is keyed
    by the site version as well, which would leave a row per version behind in the table."""
    for n, role in enumerate([RESEARCHER, REVIEWER]):
        client = Client()
        client.force_login(make_user(f"user{n}", role))
        url = history[0].get_absolute_url()
        client.get(url)
        stored = client.get(url)
        assert client.get(url, headers={"If-None-Match": stored["ETag"]}).status_code == 304
    assert StoredPage.objects.count() == 1  # the researcher's


def test_a_blind_campaign_tag_never_leaks_to_anonymous_or_other_reviewers(history):
    rita, rosa = make_user("rita", REVIEWER), make_user("rosa", REVIEWER)
    campaign = create_campaign(
        CampaignSpec(
            slug="study", annotators=["rita", "rosa"], companies=["acme.example"], per_capture=2
        )
    )
    clients = {name: Client() for name in ("anonymous", "rita", "rosa")}
    clients["rita"].force_login(rita)
    clients["rosa"].force_login(rosa)
    url = history[0].get_absolute_url()
    for client in clients.values():
        client.get(url)  # each audience's page is stored
    clients["rita"].post(reverse("tag_create"), _form(history[0], SHARING))
    tag = Annotation.objects.get(annotator=rita, kind="original")
    seen = {
        name: f'data-annotation="{tag.pk}"' in c.get(url).content.decode()
        for name, c in clients.items()
    }
    assert seen == {"anonymous": False, "rita": True, "rosa": False}
    # once rosa marks the capture done she sees the others' tags
    mark_done(campaign, history[0].pk, rosa)
    assert f'data-annotation="{tag.pk}"' in clients["rosa"].get(url).content.decode()
    assert f'data-annotation="{tag.pk}"' not in clients["anonymous"].get(url).content.decode()


def test_a_reviewers_page_keeps_working_forms(history):
    reviewer = Client(enforce_csrf_checks=True)
    reviewer.force_login(make_user("rev", REVIEWER))
    url = history[0].get_absolute_url()
    reviewer.get(url)  # sets the CSRF cookie
    html = reviewer.get(url).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    form = _form(history[0], RETENTION) | {"csrfmiddlewaretoken": token}
    assert reviewer.post(reverse("tag_create"), form).status_code == 302


def test_the_review_count_in_a_reviewers_header_follows_the_queue(
    client, history, django_capture_on_commit_callbacks
):
    client.force_login(make_user("rev", REVIEWER))
    url = history[0].get_absolute_url()
    assert 'class="count"' not in client.get(url).content.decode()
    assert 'class="count"' not in client.get(url).content.decode()  # stored
    # a tag on another company's capture joins the queue; this company's pages did not
    # change, the site version did once the tag was committed
    other = make_company(slug="other.example")
    first = make_snapshot(other, captured_at=datetime(2010, 1, 1, tzinfo=UTC), body=V1)
    make_snapshot(other, captured_at=datetime(2011, 1, 1, tzinfo=UTC), body=V2)
    with django_capture_on_commit_callbacks(execute=True):
        tag_text(first, RETENTION, make_user())
    assert '<span class="count">1</span>' in client.get(url).content.decode()


# A reviewer's stored capture page, invalidated exactly when what it shows changes.


def _reviewer(name: str = "rev") -> Client:
    client = Client()
    client.user = make_user(name, REVIEWER)
    client.force_login(client.user)
    return client


def _shown(client: Client, url: str) -> str:
    """The page, asked for twice: the second answer is the stored one."""
    first = client.get(url)
    second = client.get(url)
    assert second.status_code == 200
    assert _without_tokens(second) == _without_tokens(first)
    return second.content.decode()


def _without_tokens(response) -> str:
    """The body without what differs between two responses of one stored page."""
    html = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", html.replace(nonce, "NONCE"))


def test_a_reviewers_page_is_stored_and_served_without_rendering(
    history, django_assert_num_queries
):
    reviewer = _reviewer()
    url = history[0].get_absolute_url()
    reviewer.get(url)
    # session, user, the user's groups, the company's and the site's page versions
    with django_assert_num_queries(4):
        stored = reviewer.get(url)
    assert stored["Cache-Control"] == "private, no-cache"
    assert "tag-picker" in stored.content.decode()


def test_a_tag_by_another_user_shows_on_the_reviewers_next_request(history):
    reviewer = _reviewer()
    url = history[0].get_absolute_url()
    assert "data-annotation=" not in _shown(reviewer, url)
    tag = tag_text(history[0], RETENTION, make_user("other", REVIEWER))
    assert f'data-annotation="{tag.pk}"' in _shown(reviewer, url)


def _suggestion_here(django_capture_on_commit_callbacks):
    """Two companies' captures sharing a clause, the first's tagged (committed)."""
    a = make_snapshot(make_company(slug="a.example"), body=POLICY_A)
    b = make_snapshot(make_company(slug="b.example"), body=POLICY_B)
    with django_capture_on_commit_callbacks(execute=True):
        tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    return a, b


def test_a_tag_in_another_company_that_makes_a_suggestion_here_shows_up(
    django_capture_on_commit_callbacks,
):
    a = make_snapshot(make_company(slug="a.example"), body=POLICY_A)
    b = make_snapshot(make_company(slug="b.example"), body=POLICY_B)
    reviewer = _reviewer()
    url = b.get_absolute_url()
    assert "data-suggestion=" not in _shown(reviewer, url)
    version = Company.objects.get(pk=b.company_id).page_version
    with django_capture_on_commit_callbacks(execute=True):
        tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    assert Company.objects.get(pk=b.company_id).page_version == version  # b's did not change
    assert 'class="suggested tag-third-party-sharing-collection"' in _shown(reviewer, url)
    assert "data-suggestion=" not in _shown(Client(), url)  # anonymous: none offered


@pytest.mark.parametrize("decision", ["suggestion_accept", "suggestion_reject"])
def test_accepting_or_rejecting_a_suggestion_changes_the_page(
    decision, django_capture_on_commit_callbacks
):
    _, b = _suggestion_here(django_capture_on_commit_callbacks)
    reviewer, other = _reviewer(), _reviewer("other")
    url = b.get_absolute_url()
    assert "data-suggestion=" in _shown(reviewer, url)
    assert "data-suggestion=" in _shown(other, url)
    found = suggestions_for(b, rendered_sections(b.text), reviewer.user)
    (s,) = [s for group in found.values() for s in group]
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(
            reverse(decision), {"snapshot": b.pk, "section": s.section_id, "key": s.key}
        )
    assert response.status_code == 302
    for client in (reviewer, other):
        html = _shown(client, url)
        assert "data-suggestion=" not in html
        assert ("data-annotation=" in html) == (decision == "suggestion_accept")


def test_a_stored_page_carries_a_fresh_token_of_its_own_users_secret(history):
    url = history[0].get_absolute_url()
    rita, rosa = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    rita.force_login(make_user("rita", REVIEWER))
    rosa.force_login(make_user("rosa", REVIEWER))
    for client in (rita, rosa):
        client.get(url)  # sets the CSRF cookie
    pages = [rita.get(url), rita.get(url), rosa.get(url)]
    tokens = [_token(page) for page in pages]
    assert len(set(tokens)) == 3  # masked anew for each response
    secrets = [_unmask_cipher_token(token) for token in tokens]
    assert secrets[0] == secrets[1] == rita.cookies["csrftoken"].value
    assert secrets[2] == rosa.cookies["csrftoken"].value != secrets[0]
    form = _form(history[0], RETENTION) | {"csrfmiddlewaretoken": tokens[1]}
    assert rita.post(reverse("tag_create"), form).status_code == 302


def test_a_page_kept_by_the_browser_is_not_revalidated_after_the_csrf_cookie_changed(history):
    reviewer = _reviewer()
    url = history[0].get_absolute_url()
    reviewer.get(url)
    kept = reviewer.get(url)
    assert reviewer.get(url, headers={"If-None-Match": kept["ETag"]}).status_code == 304
    reviewer.cookies["csrftoken"] = "a" * 32  # e.g. signed in again: a new secret
    again = reviewer.get(url, headers={"If-None-Match": kept["ETag"]})
    assert again.status_code == 200
    assert _unmask_cipher_token(_token(again)) == "a" * 32


def _token(response) -> str:
    html = response.content.decode()
    return html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]


def test_reading_a_taggers_page_writes_nothing(django_capture_on_commit_callbacks):
    a, b = _suggestion_here(django_capture_on_commit_callbacks)
    TaggedWording.objects.all().delete()  # as if made by a path that left it unindexed
    Client().get(b.get_absolute_url())  # a text's first view stores its rendered sections
    reviewer = _reviewer()
    with CaptureQueriesContext(connection) as queries:
        html = reviewer.get(b.get_absolute_url()).content.decode()
    verbs = {q["sql"].split(None, 1)[0].upper() for q in queries}
    assert verbs == {"SELECT"}
    assert "data-suggestion=" not in html  # the index is caught up where tags are made
    # the next tag made anywhere indexes every tag made since the last indexed
    with django_capture_on_commit_callbacks(execute=True):
        tag_text(a, "We collect your email address.", make_user("ruth", REVIEWER))
    assert "data-suggestion=" in _shown(reviewer, b.get_absolute_url())


@pytest.fixture
def listening(settings, monkeypatch):
    """This process listening for changes, as every gunicorn worker does."""
    settings.STORED_PAGES_LISTEN = True
    versions = pagecache._Versions()
    monkeypatch.setattr(pagecache, "_versions", versions)
    versions._start_listening()
    _wait_for(lambda: versions.listening)
    yield versions
    versions.stop.set()
    versions.thread.join(timeout=10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_signed_in_page_costs_no_query_until_the_session_or_the_roles_change(
    listening, django_assert_num_queries
):
    company = make_company(slug="acme.example")
    url = make_snapshot(company, body=V1).get_absolute_url()
    Group.objects.get_or_create(name=REVIEWER)  # an earlier test's flush may have taken it
    user = make_user("rev", REVIEWER)
    client = Client()
    client.force_login(user)
    # authenticated by Django, rendered, stored, the session remembered (once no notification
    # of the sign-in's own writes is still on its way)
    _wait_for(lambda: client.get(url) and listening.viewers)
    with django_assert_num_queries(0):
        stored = client.get(url)
    assert "tag-picker" in stored.content.decode()
    assert stored["Cache-Control"] == "private, no-cache"

    user.groups.clear()  # a role taken away: the membership's trigger tells every process
    _wait_for(lambda: not listening.viewers)
    assert "tag-picker" not in client.get(url).content.decode()

    _wait_for(lambda: client.get(url) and listening.viewers)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.logout()  # the session is deleted: its cookie gets nothing of the user's any more
    _wait_for(lambda: not listening.viewers)
    replayed = Client()
    replayed.cookies[settings.SESSION_COOKIE_NAME] = session
    response = replayed.get(url)
    assert response["Cache-Control"] == "public, no-cache"
    assert 'class="who"' not in response.content.decode()
