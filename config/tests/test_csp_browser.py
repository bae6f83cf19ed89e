"""Chromium reports no Content Security Policy violation on the main pages, signed in or not.

Complements policies/tests/test_browser.py (the public reading pages, anonymously): here the
sign-in form, the pages a signed-in member uses (the reader with its tagging controls, review,
imports, export) and search, as a staff member with every role. Pages whose route does not
exist yet are skipped, so the list can name pages before they land.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Page, expect

from annotations.tests.factories import PASSWORD, make_user, tag_text
from policies.importing.importer import import_paths
from policies.models import Snapshot
from policies.permissions import ALL_ROLES
from policies.tests.browser import restore_migrated_rows, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILES = ["psiphon3.com_2018-05-18.md", "psiphon3.com_2018-07-21.md"]
COMPANY = "psiphon3.com"

# Records violations inside the page; add_init_script runs through the driver, outside the CSP.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

# (route name, kwargs, query string): the main pages, in the order a member might visit them.
MAIN_PAGES = [
    ("company_list", {}, ""),
    ("company_detail", {"slug": COMPANY}, ""),
    ("snapshot_detail", {"slug": COMPANY, "capture": "2018-07-21"}, ""),
    ("compare", {"slug": COMPANY, "old": "2018-05-18", "new": "2018-07-21"}, ""),
    ("search", {}, "?q=data"),
    ("review_list", {}, ""),
    ("import_list", {}, ""),
    ("import_new", {}, ""),
    ("export_page", {}, ""),
]


def _existing_pages() -> list[str]:
    paths = []
    for name, kwargs, query in MAIN_PAGES:
        try:
            paths.append(reverse(name, kwargs=kwargs) + query)
        except NoReverseMatch:
            continue  # not built yet
    return paths


def _member_and_captures(sample_dir, tmp_path):
    """Two captures of one company, and a staff member holding every role."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in FILES:
        shutil.copy(Path(sample_dir) / "corpus-sample" / name, corpus / name)
    import_paths([corpus])
    restore_migrated_rows()
    member = make_user("member", is_staff=True)
    member.groups.add(*Group.objects.filter(name__in=ALL_ROLES))
    return member


def _violations(page: Page) -> list[str]:
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__cspViolations")


def test_signed_in_pages_break_no_content_security_policy(page, sample_dir, tmp_path):
    member = _member_and_captures(sample_dir, tmp_path)
    newest = Snapshot.objects.order_by("captured_at").last()
    tag_text(newest, "Psiphon", member, slug="first-party-collection-use")

    page.add_init_script(CSP_LISTENER)
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(msg.text))

    # The sign-in form, then signing in through it (the session cookie is the browser's own).
    page.goto(page.base_url + reverse("login"))
    assert _violations(page) == [], "sign-in page"
    page.fill("#id_username", "member")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text("member")

    visited = []
    for path in _existing_pages():
        response = page.goto(page.base_url + path)
        assert response is not None
        assert response.status == 200, path
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        assert _violations(page) == [], path
        visited.append(path)
    assert len(visited) >= 6

    # Signing out is a POST from the header's form.
    page.click("text=Sign out")
    expect(page.locator("a", has_text="Sign in")).to_be_visible()
    assert _violations(page) == [], "after signing out"

    assert [text for text in messages if "Content Security Policy" in text] == []
    assert page.console_errors == []
    assert page.dialogs == []


@pytest.mark.parametrize("width", [1280, 390])
def test_main_pages_do_not_scroll_sideways(page, sample_dir, tmp_path, screenshot_dir, width):
    """Every main page fits the window at desktop and phone widths (tables scroll inside their
    own box); screenshots land in screenshots/ for a person to look at."""
    _member_and_captures(sample_dir, tmp_path)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "member")
    too_wide = {}
    for path in _existing_pages():
        page.goto(page.base_url + path)
        page.wait_for_load_state("networkidle")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            too_wide[path] = scroll
        name = path.strip("/").replace("/", "_").replace("?", "_") or "home"
        page.screenshot(path=screenshot_dir / f"w{width}-{name}.png", full_page=True)
    assert too_wide == {}
    assert page.console_errors == []


def test_lockout_page_breaks_no_content_security_policy(page):
    make_user("member")
    page.add_init_script(CSP_LISTENER)
    for _ in range(5):
        page.goto(page.base_url + reverse("login"))
        page.fill("#id_username", "member")
        page.fill("#id_password", "not the password")
        page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Too many attempts")
    assert _violations(page) == []
    assert page.console_errors == [] or all("429" in e for e in page.console_errors)
