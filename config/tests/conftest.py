"""Sample rows for every URL and one user per role, shared by the site-wide tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from annotations.campaigns.campaigns import CampaignSpec, create_campaign
from annotations.tests.factories import make_user, tag_text
from config.tests.routes import SiteData
from policies.models import ImportRun
from policies.permissions import CURATOR, IMPORTER, RESEARCHER, REVIEWER
from policies.tests.factories import make_company, make_snapshot

ANONYMOUS = "anonymous"
STAFF = "staff"
# Every role a visitor can have, in the order the role table's columns use.
ROLES = (ANONYMOUS, REVIEWER, CURATOR, RESEARCHER, IMPORTER, STAFF)

OLD_BODY = "# Privacy\n\nWe collect your email address.\n\n## Sharing\n\nWe share it with no one.\n"
NEW_BODY = (
    "# Privacy\n\nWe collect your email address and your location.\n\n"
    "## Sharing\n\nWe share it with advertisers.\n"
)


@pytest.fixture
def site_data(db) -> SiteData:
    """A company with two captures, a tag on the newer one, and a finished import run."""
    company = make_company(slug="example.com")
    older = make_snapshot(company, captured_at=datetime(2018, 1, 2, tzinfo=UTC), body=OLD_BODY)
    newer = make_snapshot(company, captured_at=datetime(2019, 3, 4, tzinfo=UTC), body=NEW_BODY)
    tagger = make_user("tagger", REVIEWER)
    tag = tag_text(newer, "advertisers", tagger, slug="third-party-sharing-collection")
    run = ImportRun.objects.create(source="sample", status=ImportRun.Status.SUCCEEDED)
    campaign = create_campaign(
        CampaignSpec(slug="study", annotators=["tagger"], companies=[company.slug], per_capture=1)
    )
    return SiteData(
        company=company.slug,
        capture=f"{newer.captured_at:%Y-%m-%d}",
        older_capture=f"{older.captured_at:%Y-%m-%d}",
        tag=tag.pk,
        import_run=run.pk,
        campaign=campaign.slug,
        capture_id=newer.pk,
        wording=index_texts_and_pick_a_wording(newer),
    )


def index_texts_and_pick_a_wording(snapshot) -> int:
    from annotations.models import ClauseWording
    from annotations.suggesting.index import index_texts

    index_texts([snapshot.text_id])
    return ClauseWording.objects.filter(section__text_id=snapshot.text_id).first().wording


@pytest.fixture
def role_users(db) -> dict[str, User | None]:
    """One user per role (None for the anonymous visitor); staff has no group."""
    users: dict[str, User | None] = {ANONYMOUS: None, STAFF: make_user("stella", is_staff=True)}
    for role in (REVIEWER, CURATOR, RESEARCHER, IMPORTER):
        users[role] = make_user(f"as-{role.lower()}", role)
    return users
