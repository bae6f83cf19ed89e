"""A small history to read through the API: one company, three captures (the last unchanged),
a tag, and a Researcher with a token."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from annotations.tests.factories import make_user, tag_text
from api.tokens import issue_token
from policies.models import Snapshot
from policies.permissions import CURATOR, RESEARCHER, REVIEWER
from policies.tests.factories import make_company, make_snapshot

FIRST = "# Privacy\n\nWe collect your email address.\n\n## Sharing\n\nWe share it with no one.\n"
SECOND = (
    "# Privacy\n\nWe collect your email address and your location.\n\n"
    "## Sharing\n\nWe share it with advertisers.\n"
)
TIMES = [
    datetime(2018, 1, 2, 10, 0, tzinfo=UTC),
    datetime(2019, 3, 4, 0, 0, tzinfo=UTC),
    datetime(2019, 6, 30, 23, 59, 59, tzinfo=UTC),
]


@pytest.fixture(autouse=True)
def _fresh_tag_counts():
    cache.clear()  # the trends keep tag shares a minute; each test counts its own
    yield
    cache.clear()


@pytest.fixture
def history(db) -> list[Snapshot]:
    company = make_company(slug="example.com", name="Example")
    snapshots = [
        make_snapshot(company, captured_at=when, body=body)
        for when, body in zip(TIMES, [FIRST, SECOND, SECOND], strict=True)
    ]
    Snapshot.objects.refresh_unchanged_flags([company.pk])
    return snapshots


@pytest.fixture
def tagged(history):
    tagger = make_user("tagger", REVIEWER)
    return tag_text(history[1], "advertisers", tagger, slug="third-party-sharing-collection")


@pytest.fixture
def researcher(db):
    return make_user("ruth", RESEARCHER)


@pytest.fixture
def token(researcher) -> str:
    return issue_token(researcher, "notebook")[1]


@pytest.fixture
def bearer(token) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def curator_bearer(db) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_token(make_user('cora', CURATOR))[1]}"}


@pytest.fixture
def study(history):
    """A finished campaign on the second capture: ann and bob both tag "advertisers" as
    sharing; only ann tags "location" as collection."""
    from annotations.campaigns.campaigns import CampaignSpec, create_campaign, mark_done

    people = [make_user(name, REVIEWER) for name in ("ann", "bob")]
    campaign = create_campaign(
        CampaignSpec(
            slug="study",
            name="Study",
            annotators=["ann", "bob"],
            companies=["example.com"],
            snapshot_ids=[history[1].pk],
            captured_from=TIMES[1],
            captured_before=TIMES[2],
            per_capture=2,
        )
    )
    for person in people:
        tag_text(history[1], "advertisers", person, slug="third-party-sharing-collection")
    tag_text(history[1], "location", people[0], slug="first-party-collection-use")
    for person in people:
        mark_done(campaign, history[1].pk, person)
    return campaign
