"""Stored pages (policies.pagecache) and tags: a tag, a review or a campaign serves the pages
anew, and a signed-in user's page (their blind-campaign tags) never reaches anyone else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from annotations.campaigns.campaigns import CampaignSpec, create_campaign, mark_done
from annotations.models import Annotation
from annotations.tagging.tags import review_tag
from annotations.tests.factories import make_user, tag_text
from annotations.tests.test_lineage import RETENTION, SHARING, V1, V2
from annotations.tests.test_views import _form
from policies.models import StoredPage
from policies.permissions import RESEARCHER, REVIEWER

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    from policies.tests.factories import make_company, make_snapshot

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


def test_only_the_pages_of_people_who_cannot_tag_are_stored(history):
    """A tagger's capture page offers suggestions drawn from every company's tags, which no
    company's version follows: it is rendered for each request."""
    for n, role in enumerate([REVIEWER, RESEARCHER]):
        client = Client()
        client.force_login(make_user(f"user{n}", role))
        client.get(history[0].get_absolute_url())
        client.get(history[0].get_absolute_url())
        assert StoredPage.objects.count() == n


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


def test_the_review_count_in_a_reviewers_header_follows_the_queue(client, history):
    client.force_login(make_user("rev", REVIEWER))
    url = history[0].get_absolute_url()
    assert 'class="count"' not in client.get(url).content.decode()
    # a tag on another company's capture joins the queue; this company's pages did not change
    from policies.tests.factories import make_company, make_snapshot

    other = make_company(slug="other.example")
    first = make_snapshot(other, captured_at=datetime(2010, 1, 1, tzinfo=UTC), body=V1)
    make_snapshot(other, captured_at=datetime(2011, 1, 1, tzinfo=UTC), body=V2)
    tag_text(first, RETENTION, make_user())
    assert '<span class="count">1</span>' in client.get(url).content.decode()
