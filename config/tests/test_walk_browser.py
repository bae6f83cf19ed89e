"""The walk: every feature's page, reached by clicking from the home page, as each role at a
desktop and a phone width, in Debian's Chromium.

On every page reached: no sideways scroll of the page, no console error, no Content Security
Policy violation, and a screenshot in screenshots/walk-<role>-<width>-<page>.png for a person to
look at. Then the same pages get an accessibility audit with axe-core (vendored in
config/tests/vendor/axe.min.js, MPL-2.0, injected by the test), which must find nothing.

The audit runs in a second browser context with `bypass_csp=True`: axe is injected as an inline
script, which the page's policy rightly refuses. The first context keeps the policy on, and a
test below checks that it does refuse the injection, so the bypass is the audit's alone.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from annotations.campaigns.campaigns import CampaignSpec, create_campaign, mark_done
from annotations.suggesting.model import train
from annotations.tests.factories import make_user, tag_text
from policies.importing.importer import import_paths
from policies.models import ImportRun, Snapshot
from policies.permissions import ALL_ROLES, CURATOR, IMPORTER, RESEARCHER, REVIEWER
from policies.tests.browser import restore_migrated_rows, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
FILES = ["psiphon3.com_2018-05-18.md", "psiphon3.com_2018-07-21.md", "mullvad.net_2019-08-21.md"]
COMPANY = "psiphon3.com"

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

# role -> (groups, staff); None is the anonymous visitor.
ROLES = {
    "anonymous": None,
    "reviewer": ([REVIEWER], False),
    "curator": ([CURATOR], False),
    "researcher": ([RESEARCHER], False),
    "importer": ([IMPORTER], False),
    "admin": (list(ALL_ROLES), True),
}
# The header links each role must find, and the page each leads to (its <h1>).
HEADER_LINKS = {
    "Campaigns": (("reviewer", "curator", "admin"), re.compile(r"campaigns", re.I)),
    "Review": (("reviewer", "curator", "admin"), re.compile(r"Review", re.I)),
    "Suggestions": (
        ("reviewer", "curator", "researcher", "importer", "admin"),
        re.compile(r"Suggestion", re.I),
    ),
    "Export": (("curator", "researcher", "admin"), re.compile(r"Export", re.I)),
    "Imports": (("importer", "admin"), re.compile(r"Import", re.I)),
    # Last: the admin's pages have no site header to go on from.
    "Admin": (("admin",), re.compile(r"Companies, captures, tags and users")),
}


def _setup(sample_dir: Path, tmp_path: Path, role: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in FILES:
        shutil.copy(sample_dir / "corpus-sample" / name, corpus / name)
    # An import run as the browser's imports make them: its page lists each file's outcome.
    run = ImportRun.objects.create(source="corpus.zip", status=ImportRun.Status.RUNNING)
    import_paths([corpus], run=run)
    restore_migrated_rows()
    tagger = make_user("tagger", REVIEWER)
    oldest = Snapshot.objects.filter(company__slug=COMPANY).order_by("captured_at").first()
    tag_text(oldest, "Psiphon", tagger, slug="first-party-collection-use")
    # The opt-out link changed (http -> https) in the next capture: a proposal for review.
    tag_text(oldest, "http://www.mopub.com/optout/", tagger, slug="user-choice-control")
    campaign = create_campaign(
        CampaignSpec(
            slug="walk",
            name="Walk study",
            annotators=["tagger"],
            companies=[COMPANY],
            per_capture=1,
        )
    )
    # The tagger's work in the campaign, done: its captures have units to adjudicate.
    tag_text(oldest, "Psiphon", tagger, slug="data-retention")
    for snapshot_id in campaign.assignments.values_list("snapshot_id", flat=True):
        mark_done(campaign, snapshot_id, tagger)
    # A version of the suggestions' model, so its page shows its chart and tables.
    assert train().status == "ready"
    if ROLES[role] is not None:
        groups, staff = ROLES[role]
        user = make_user(role, is_staff=staff, is_superuser=staff)
        user.groups.add(*Group.objects.filter(name__in=groups))


class Walk:
    """Checks and photographs each page the walk reaches; remembers them for the audit."""

    def __init__(self, page: Page, role: str, width: int, screenshots: Path) -> None:
        self.page, self.role, self.width, self.screenshots = page, role, width, screenshots
        self.visited: dict[str, str] = {}  # name -> URL
        self.problems: list[str] = []

    def arrived(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("networkidle")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > self.width:
            self.problems.append(f"{name}: page is {scroll} px wide")
        violations = page.evaluate("window.__cspViolations")
        if violations:
            self.problems.append(f"{name}: CSP violations {violations}")
        path = self.screenshots / f"walk-{self.role}-{self.width}-{name}.png"
        page.screenshot(path=path, full_page=True)
        self.visited[name] = page.url

    def home(self) -> None:
        self.page.get_by_role("link", name="Palimpsest", exact=True).click()
        expect(self.page.locator("#company-results")).to_be_visible()


def _walk(walk: Walk) -> None:
    """From the home page, by clicking: a company, a capture, a comparison, search, and the
    pages the role's header links lead to."""
    page = walk.page
    page.goto(page.base_url + "/")
    walk.arrived("home")
    page.locator("#company-results").get_by_role("link", name=COMPANY).click()
    expect(page.locator("h1")).to_have_text(COMPANY)
    walk.arrived("company")
    page.locator("table.history").get_by_role("link", name="2018-07-21").click()
    expect(page.locator("#policy")).to_be_visible()
    walk.arrived("reader")
    page.get_by_role("link", name="Compare with previous").click()
    expect(page.locator("#comparison")).to_be_visible()
    walk.arrived("compare")
    walk.home()
    page.locator("#site-search-q").fill("data")
    page.locator("#site-search-q").press("Enter")
    expect(page.locator("#search-summary")).to_be_visible()
    walk.arrived("search")
    nav = page.get_by_role("navigation", name="Account")
    for label, (roles, heading) in HEADER_LINKS.items():
        # "Review 3 waiting", but not the account link "reviewer (Reviewer)".
        link = nav.get_by_role("link", name=re.compile(rf"^{label}\b"))
        if walk.role not in roles:
            expect(link).to_have_count(0)
            continue
        link.click()
        expect(page.locator("h1")).to_have_text(heading)
        walk.arrived(label.lower())
        _walk_on(walk, label)
    if walk.role == "anonymous":
        nav.get_by_role("link", name="Sign in").click()
        expect(page.locator("#id_username")).to_be_visible()
        walk.arrived("sign-in")


def _walk_on(walk: Walk, label: str) -> None:
    """The pages behind a header link, by clicking on from the page it leads to."""
    page = walk.page
    if label == "Imports":
        page.locator("#import-runs").get_by_role("link").first.click()
        expect(page.locator("h1")).to_contain_text("Import")
        walk.arrived("import-detail")
        page.get_by_role("link", name="Imports", exact=True).first.click()
        page.get_by_role("link", name="New import").click()
        walk.arrived("import-new")
    if label == "Campaigns":
        page.get_by_role("link", name="Walk study").click()
        walk.arrived("campaign")
        if walk.role in ("curator", "admin"):
            page.locator("#agreement-link").click()
            walk.arrived("agreement")
            page.get_by_role("link", name="Walk study").first.click()
            page.locator("#per-capture").get_by_role("link", name="adjudicate").first.click()
            expect(page.locator("h1")).to_contain_text("Adjudicate")
            walk.arrived("adjudicate")
            page.get_by_role("link", name="Walk study").first.click()
            page.locator("#edit-campaign").click()
            expect(page.locator("h1")).to_contain_text("Edit")
            walk.arrived("campaign-edit")
    if label == "Admin":
        page.locator("#content").get_by_role("link", name="Companies").first.click()
        walk.arrived("admin-companies")
        page.locator("#result_list").get_by_role("link", name=COMPANY).click()
        walk.arrived("admin-company")


def _audit(page: Page, url: str) -> list[str]:
    """axe-core's violations on the page at `url`, one line per rule with its nodes."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert result["testEngine"]["name"] == "axe-core"
    assert len(result["passes"]) > 10  # the rules ran (passes are listed without their nodes)
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:5]}"
        for v in result["violations"]
    ]


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_feature_is_reached_by_clicking_and_passes_the_audit(
    browser, live_server, sample_dir, tmp_path, screenshot_dir, role, width
):
    _setup(sample_dir, tmp_path, role)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.base_url = live_server.url
    page.add_init_script(CSP_LISTENER)
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    try:
        if role != "anonymous":
            sign_in(page, role)
        walk = Walk(page, role, width, screenshot_dir)
        _walk(walk)
        assert walk.problems == []
        assert console == []
        audit_context = browser.new_context(
            viewport={"width": width, "height": 900},
            bypass_csp=True,
            storage_state=context.storage_state(),
        )
        try:
            audit_page = audit_context.new_page()
            found = {name: _audit(audit_page, url) for name, url in walk.visited.items()}
        finally:
            audit_context.close()
        assert {name: v for name, v in found.items() if v} == {}
    finally:
        context.close()


def test_the_page_policy_refuses_an_injected_script(page):
    """Why the audit needs `bypass_csp`: with the policy on, the injected axe does not run."""
    page.goto(page.base_url + "/")
    with pytest.raises(PlaywrightError):
        page.add_script_tag(path=AXE)
    assert page.evaluate("typeof window.axe") == "undefined"
