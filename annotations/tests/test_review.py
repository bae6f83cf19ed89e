"""The review queue after a review: counts follow, the page says what happened, Undo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotations.models import Annotation, AnnotationEvent
from annotations.tagging.tags import TaggingError, review_tag, undo_review
from annotations.tests.factories import category, make_user, tag_text
from annotations.tests.test_lineage import RETENTION
from annotations.tests.test_views import history  # noqa: F401 (fixture)
from policies.permissions import REVIEWER

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def proposal(history):  # noqa: F811 (the fixture imported above)
    tag_text(history[0], RETENTION, make_user())
    return Annotation.objects.get(kind="proposed")


@pytest.fixture
def reviewer(client):
    user = make_user("rev", REVIEWER)
    client.force_login(user)
    return user


def _review(client, proposal, action: str = "confirm", **extra):
    return client.post(
        reverse("review_action", args=[proposal.pk]),
        {"version": proposal.version, "action": action, **extra},
        headers=HTMX,
    )


def test_the_header_shows_the_queue_size(client, proposal, reviewer):
    html = client.get(reverse("company_list")).content.decode()
    assert '<span id="review-count"><span class="count">1</span>' in html


def test_confirm_says_what_happened_updates_both_counts_and_offers_undo(client, proposal, reviewer):
    html = _review(client, proposal).content.decode()
    assert html.lstrip().startswith(f'<div class="review-done" id="review-{proposal.pk}"')
    assert "Confirmed: Data Retention on acme.example" in html
    assert reverse("review_undo", args=[proposal.pk]) in html
    # Out-of-band: the page's count and the header's, both now empty of this tag.
    assert '<p id="review-waiting" class="muted" hx-swap-oob="true">0 tags waiting.' in html
    assert '<span id="review-count" hx-swap-oob="true"></span>' in html
    assert 'id="review-announce" hx-swap-oob="innerHTML">Confirmed' in html


def test_the_page_count_keeps_the_queue_filters(client, proposal, reviewer):
    html = _review(client, proposal, "dismiss", queue_category="data-security").content.decode()
    assert "Dismissed: Data Retention" in html
    assert "0 tags waiting with these filters." in html


def test_undo_puts_the_tag_back_in_the_queue_and_the_log_keeps_both(client, proposal, reviewer):
    _review(client, proposal, "retag", category="data-security")
    reviewed = Annotation.objects.get(pk=proposal.pk)
    assert (reviewed.status, reviewed.category.slug) == ("active", "data-security")
    response = client.post(
        reverse("review_undo", args=[proposal.pk]), {"version": reviewed.version}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<article class="review-item" id="review-{proposal.pk}"')
    assert "1 tag waiting." in html
    assert '<span class="count">1</span>' in html
    restored = Annotation.objects.get(pk=proposal.pk)
    assert (restored.status, restored.category.slug) == ("pending", "data-retention")
    events = list(AnnotationEvent.objects.filter(annotation_pk=proposal.pk).order_by("pk"))
    assert [e.action for e in events] == ["review", "review"]
    assert events[1].after["undoes"] == events[0].pk
    assert events[1].after["status"] == "pending"


def test_undo_without_javascript_redirects_to_the_queue(client, proposal, reviewer):
    response = client.post(
        reverse("review_action", args=[proposal.pk]),
        {"version": proposal.version, "action": "dismiss"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Dismissed: Data Retention on acme.example" in page
    assert 'class="undo-form"' in page
    response = client.post(
        reverse("review_undo", args=[proposal.pk]), {"version": proposal.version + 1}
    )
    assert response.status_code == 302
    assert Annotation.objects.get(pk=proposal.pk).status == "pending"


def test_undo_needs_the_csrf_token(proposal):
    client = Client(enforce_csrf_checks=True)
    user = make_user("rev", REVIEWER)
    client.force_login(user)
    reviewed = review_tag(proposal.pk, user, proposal.version, "confirm")
    response = client.post(
        reverse("review_undo", args=[proposal.pk]), {"version": reviewed.version}
    )
    assert response.status_code == 403


def test_only_the_reviewer_may_undo_and_only_soon(proposal):
    reviewer, other = make_user("rev", REVIEWER), make_user("other", REVIEWER)
    reviewed = review_tag(proposal.pk, reviewer, proposal.version, "confirm")
    with pytest.raises(TaggingError, match="no longer be undone"):
        undo_review(proposal.pk, other, reviewed.version)
    AnnotationEvent.objects.filter(annotation_pk=proposal.pk).update(
        at=timezone.now() - timedelta(minutes=10)
    )
    with pytest.raises(TaggingError, match="no longer be undone"):
        undo_review(proposal.pk, reviewer, reviewed.version)


def test_an_undo_cannot_itself_be_undone(proposal):
    reviewer = make_user("rev", REVIEWER)
    reviewed = review_tag(proposal.pk, reviewer, proposal.version, "dismiss")
    restored = undo_review(proposal.pk, reviewer, reviewed.version)
    assert restored.category == category("data-retention")
    with pytest.raises(TaggingError):
        undo_review(proposal.pk, reviewer, restored.version)


def test_a_refused_undo_is_a_message(client, proposal, reviewer):
    reviewed = review_tag(proposal.pk, make_user("other", REVIEWER), proposal.version, "confirm")
    response = client.post(
        reverse("review_undo", args=[proposal.pk]), {"version": reviewed.version}, headers=HTMX
    )
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#tag-messages"
    assert "Not undone: this review can no longer be undone" in response.content.decode()
