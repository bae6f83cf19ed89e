"""A blind campaign clicked through in Debian's Chromium: two reviewers tag one capture
differently and neither sees the other's tags; the agreement page shows both; a curator
accepts one category into gold; the gold export has it."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from annotations.campaigns.campaigns import CampaignSpec, create_campaign
from annotations.models import Annotation
from annotations.tests.factories import make_user
from policies.importing.importer import import_paths
from policies.models import Snapshot
from policies.permissions import CURATOR, REVIEWER
from policies.tests.browser import restore_migrated_rows, sign_in
from policies.tests.factories import write_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPANY = "blind.example"
ADS = "We share your data with advertising partners."
LOGS = "We keep server logs for thirty days."
BODY = f"# Blind policy\n\n## Practices\n\n{ADS} {LOGS}\n"
SHARING, RETENTION = "third-party-sharing-collection", "data-retention"


@pytest.fixture
def capture(tmp_path) -> Snapshot:
    restore_migrated_rows()
    write_policy(tmp_path, COMPANY, "20190101000000", BODY)
    assert import_paths([tmp_path]).new == 1
    make_user("ann", REVIEWER)
    make_user("bob", REVIEWER)
    make_user("cora", CURATOR)
    create_campaign(
        CampaignSpec(
            slug="blind",
            name="Blind study",
            annotators=["ann", "bob"],
            companies=[COMPANY],
            per_capture=2,
        )
    )
    return Snapshot.objects.get()


def _tag_next_capture(page: Page, who: str, slug: str) -> None:
    """Sign in, go from the campaign's page to the next capture, tag ADS with `slug`."""
    page.context.clear_cookies()
    sign_in(page, who)
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Blind study").click()
    page.locator("#next-capture").click()
    expect(page.locator("#campaign-bar")).to_contain_text("blind")
    page.locator("#policy span.clause", has_text=ADS).first.click()
    page.locator(f'#tag-picker .picker-button[data-category="{slug}"]').click()
    expect(page.locator("ul.section-tags li[data-annotation]")).to_have_count(1)


def _listed(page: Page) -> set[str]:
    items = page.locator("ul.section-tags li[data-annotation]")
    return {items.nth(i).get_attribute("data-category") for i in range(items.count())}


def test_blind_campaign_to_gold(page, capture, screenshot_dir):
    _tag_next_capture(page, "ann", SHARING)
    assert _listed(page) == {SHARING}
    _tag_next_capture(page, "bob", RETENTION)
    # Bob sees his tag only, not Ann's.
    assert _listed(page) == {RETENTION}
    page.locator("#mark-done").click()
    page.context.clear_cookies()
    sign_in(page, "ann")
    page.goto(page.base_url + capture.get_absolute_url())
    assert _listed(page) == {SHARING}  # Ann has not marked it done: still only hers
    page.locator("#mark-done").click()
    page.goto(page.base_url + capture.get_absolute_url())
    assert _listed(page) == {SHARING, RETENTION}
    assert Annotation.objects.filter(campaign__slug="blind").count() == 2

    # The curator: agreement, then adjudication.
    page.context.clear_cookies()
    sign_in(page, "cora")
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Blind study").click()
    page.locator("#agreement-link").click()
    table = page.locator("#agreement")
    expect(table).to_contain_text("Third Party Sharing/Collection")  # names, not slugs
    expect(table).to_contain_text("Data Retention")
    page.screenshot(path=screenshot_dir / "campaign-agreement.png", full_page=True)
    page.locator("a", has_text=f"{COMPANY}/2019-01-01").first.click()
    choice = page.locator(f'.choice[data-category="{SHARING}"]')
    expect(choice).to_contain_text("1 of 2: ann")
    choice.focus()
    page.keyboard.press("g")  # accept into gold
    expect(page.locator(f'.choice[data-category="{SHARING}"]')).to_contain_text("in gold")
    page.screenshot(path=screenshot_dir / "campaign-adjudicate.png", full_page=True)

    response = page.request.get(page.base_url + "/export/annotations.csv?campaign=blind&layer=gold")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert [(r["category"], r["layer"], r["quote"]) for r in rows] == [(SHARING, "gold", ADS)]
