"""A suggestion in Debian's Chromium: a clause tagged at one company is offered at another
company whose policy has the same sentence; `a` accepts it and the export names its source."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from annotations.models import Annotation
from annotations.tests.factories import make_user, tag_text
from policies.importing.importer import import_paths
from policies.models import Snapshot
from policies.permissions import RESEARCHER, REVIEWER
from policies.tests.browser import restore_migrated_rows, sign_in
from policies.tests.factories import write_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHARED = "We may share your information with our advertising partners for marketing purposes."
FIRST = f"# First privacy policy\n\n## Sharing\n\n{SHARED} We never sell it.\n"
SECOND = f"# Second policy\n\nWe collect your name and email.\n\n## Partners\n\n{SHARED}\n"


def test_a_tag_is_suggested_at_another_company_and_accepted_with_a_key(
    page: Page, tmp_path, screenshot_dir
):
    restore_migrated_rows()
    write_policy(tmp_path, "first.example", "20170101000000", FIRST)
    write_policy(tmp_path, "second.example", "20180101000000", SECOND)
    assert import_paths([tmp_path]).new == 2
    first = Snapshot.objects.get(company__slug="first.example")
    source = tag_text(first, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")

    make_user("rosa", REVIEWER)
    sign_in(page, "rosa")
    page.goto(page.base_url + "/companies/second.example/2018-01-01/")
    suggestion = page.locator('[data-suggestion][data-category="third-party-sharing-collection"]')
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text("same wording tagged at first.example, 2017-01-01")
    expect(page.locator("mark.suggested")).not_to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "suggestion-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "suggestion-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    for _ in range(4):  # j moves sentence by sentence to the shared one
        page.keyboard.press("j")
        if SHARED in (page.locator("#policy .clause.current").first.text_content() or ""):
            break
    page.keyboard.press("a")

    tag = page.locator('ul.section-tags li[data-category="third-party-sharing-collection"]')
    expect(tag).to_have_count(1)
    expect(suggestion).to_have_count(0)
    accepted = Annotation.objects.get(snapshot__company__slug="second.example")
    assert accepted.suggestion["tag"] == str(source.uuid)

    make_user("ruth", RESEARCHER)
    sign_in(page, "ruth")
    response = page.request.get(page.base_url + "/export/annotations.csv?company=second.example")
    (row,) = csv.DictReader(io.StringIO(response.text()))
    assert row["origin"].startswith(f"suggestion: same wording (1.0) as tag urn:uuid:{source.uuid}")
