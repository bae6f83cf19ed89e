"""The flows a person clicks through, in Debian's Chromium: search, history, reader, compare.

Each test imports only the corpus files it needs (copied into tmp_path), so the whole file stays
well under a minute. Screenshots land in screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from policies.importing.importer import import_paths
from policies.tests.factories import write_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PSIPHON = "psiphon3.com"
PSIPHON_FILES = [
    "psiphon3.com_2018-05-18.md",
    "psiphon3.com_2018-07-21.md",
    "psiphon3.com_2019-12-09.md",
]

# Records CSP violations in the page itself; add_init_script runs through the driver, so the
# page's own policy does not apply to it.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _import_sample(sample_dir: Path, tmp_path: Path, names: list[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in names:
        shutil.copy(sample_dir / "corpus-sample" / name, corpus / name)
    summary = import_paths([corpus])
    assert summary.new == len(names)


def _mark_window(page: Page) -> None:
    """A marker that survives htmx swaps and disappears on a full page load."""
    page.evaluate("window.__noReload = true")


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("window.__noReload === true")


def test_search_history_reader_and_compare_flow(page, sample_dir, tmp_path, screenshot_dir):
    _import_sample(sample_dir, tmp_path, [*PSIPHON_FILES, "mullvad.net_2019-08-21.md"])

    # Home: the live filter swaps the results in place and keeps the query in the URL.
    page.goto(page.base_url + "/")
    expect(page.locator("#company-results")).to_contain_text("2 companies")
    _mark_window(page)
    page.locator("#company-q").press_sequentially("psiphon")
    expect(page).to_have_url(re.compile(r"[?&]q=psiphon"))
    results = page.locator("#company-results")
    expect(results).to_contain_text("1 company matching")
    expect(results.get_by_role("link", name=PSIPHON)).to_be_visible()
    expect(results).not_to_contain_text("mullvad")
    assert _not_reloaded(page)
    page.screenshot(path=screenshot_dir / "home.png", full_page=True)

    # Company history: the chart and one row per capture.
    results.get_by_role("link", name=PSIPHON).click()
    expect(page).to_have_url(page.base_url + f"/companies/{PSIPHON}/")
    expect(page.locator("figure.chart svg")).to_be_visible()
    expect(page.locator("table.history tbody tr")).to_have_count(3)
    expect(page.locator(".lede")).to_contain_text("3 captures")
    page.screenshot(path=screenshot_dir / "company.png", full_page=True)

    # Reader: the newest capture; a TOC link scrolls its section to the top of the window.
    page.get_by_role("link", name="2019-12-09").click()
    expect(page.locator("nav.toc")).to_be_visible()
    toc_link = page.locator("nav.toc a", has_text="PsiCash")
    anchor = toc_link.get_attribute("href")
    assert page.evaluate("window.scrollY") == 0
    toc_link.click()
    expect(page).to_have_url(re.compile(re.escape(anchor) + "$"))
    assert page.evaluate("window.scrollY") > 0
    assert 0 <= page.locator(f"section{anchor}").bounding_box()["y"] < 40
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshot_dir / "reader.png")

    # Compare with the previous capture; keyboard navigation between changes.
    page.get_by_role("link", name="Compare with previous").click()
    expect(page).to_have_url(re.compile(r"/compare/20180721\d{6}\.\.\.20191209\d{6}/$"))
    assert page.locator("[data-change]").count() >= 2
    assert page.locator("#comparison del").count() + page.locator("#comparison ins").count() > 0
    page.screenshot(path=screenshot_dir / "compare.png")
    _mark_window(page)
    page.keyboard.press("n")
    page.keyboard.press("n")
    expect(page.locator("#change-2")).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator(".diff-row.current")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"#change-2$"))
    page.keyboard.press("p")
    expect(page.locator("#change-1")).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page).to_have_url(re.compile(r"#change-1$"))

    # "c": only changed sections stay visible, and the URL says so.
    unchanged = page.locator("#comparison .row-unchanged")
    assert unchanged.count() > 0
    page.keyboard.press("c")
    expect(page.locator("#comparison")).to_have_class(re.compile(r"\bchanges-only\b"))
    # The script hides the rows at once and the form re-renders #comparison; the htmx swap
    # ends with the pushed canonical URL, which has no #change-N.
    expect(page).to_have_url(re.compile(r"\?changes=only$"))
    expect(page.locator("#changes-only")).to_be_checked()
    expect(page.locator("#comparison .row-unchanged").first).to_be_hidden()
    assert not any(row.is_visible() for row in unchanged.all())
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshot_dir / "compare-changes-only.png")

    # The switcher swaps #comparison in place and pushes the canonical URL.
    before = page.locator("#comparison").inner_text()
    page.select_option("#cmp-from", label="2018-05-18 17:27")
    expect(page).to_have_url(
        re.compile(r"/compare/20180518\d{6}\.\.\.20191209\d{6}/\?changes=only$")
    )
    expect(page.locator("#comparison")).not_to_have_text(before)
    expect(page.locator("#comparison .diff-head").first).to_contain_text("2018-05-18")
    page.select_option("#cmp-to", label="2018-07-21 11:04")
    expect(page).to_have_url(re.compile(r"/compare/20180518\d{6}\.\.\.20180721\d{6}/"))
    expect(page.locator("#comparison .diff-head").nth(1)).to_contain_text("2018-07-21")
    expect(page.locator("#comparison")).to_have_class(re.compile(r"\bchanges-only\b"))
    assert _not_reloaded(page)
    assert page.dialogs == []
    assert page.console_errors == []


def test_reading_comparing_and_searching_work_without_javascript(
    browser, live_server, sample_dir, tmp_path
):
    _import_sample(sample_dir, tmp_path, [*PSIPHON_FILES[:2], "mullvad.net_2019-08-21.md"])
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        # The search form is a plain GET form.
        page.goto(live_server.url + "/")
        page.fill("#company-q", "mullvad")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"/\?q=mullvad&sort=name$"))
        expect(page.locator("#company-results")).to_contain_text("1 company matching")
        expect(page.locator("#company-results")).not_to_contain_text(PSIPHON)

        # Reading a capture: the TOC is plain anchors.
        page.goto(live_server.url + f"/companies/{PSIPHON}/")
        page.get_by_role("link", name="2018-07-21").click()
        expect(page.locator("#policy section.section").first).to_be_visible()
        toc_link = page.locator("nav.toc a").last
        anchor = toc_link.get_attribute("href")
        toc_link.click()
        expect(page).to_have_url(re.compile(re.escape(anchor) + "$"))
        expect(page.locator(f"section{anchor}")).to_be_in_viewport()

        # Comparing: the history page's form redirects to the comparison.
        page.goto(live_server.url + f"/companies/{PSIPHON}/")
        page.get_by_role("button", name="Compare").click()
        expect(page).to_have_url(re.compile(r"/compare/20180518\d{6}\.\.\.20180721\d{6}/$"))
        expect(page.locator("#comparison .diff-row ins").first).to_be_visible()
        expect(page.locator("#comparison .row-unchanged").first).to_be_visible()

        # "Changes only" through the form: the server hides the unchanged rows.
        page.check("#changes-only")
        page.get_by_role("button", name="Compare").click()
        expect(page).to_have_url(re.compile(r"\?changes=only$"))
        expect(page.locator("#comparison")).to_have_class(re.compile(r"\bchanges-only\b"))
        expect(page.locator("#comparison .row-unchanged").first).to_be_hidden()
        expect(page.locator("#comparison [data-change]").first).to_be_visible()
    finally:
        context.close()


HOSTILE = """# Hostile policy

<script>alert(1)</script>

An image <img src=x onerror=alert(2)> and a drawing <svg onload=alert(3)>.

Click [this link](javascript:alert(4)) or <a href="javascript:alert(5)">this one</a>.

<div hx-get="/" hx-trigger="load">htmx on load</div>

<iframe srcdoc="<script>parent.alert(6)</script>"></iframe>

<form action="/" method="post"><button>Send</button></form>

<style>body { display: none }</style>

## Links

[Encoded](jav&#x61;script:alert(7)), [data](data:text/html,<script>alert(8)</script>),
[spaced]( javascript:alert(9) ), [relative](/companies/), [fragment](#links),
[mail](mailto:privacy@example.com), [web](https://example.com/privacy),
[capture](https://web.archive.org/web/20150101000000/http://example.com/).
"""

HOSTILE_FORBIDDEN = (
    "script, img, svg, iframe, form, style, object, embed, [hx-get], [hx-trigger], "
    "[onerror], [onload], [srcdoc], a[href^='javascript' i], a[href^='data' i]"
)


def _open_page(browser, **options) -> Page:
    """A page that records dialogs, like conftest's `page`, with other context options."""
    page = browser.new_context(**options).new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


def _assert_hostile_pages_run_nothing(page: Page, origin: str) -> None:
    # Nothing in the policy may reach another site, or fire an htmx request.
    page.route(re.compile(r"^(?!" + re.escape(origin) + r")"), lambda route: route.abort())
    htmx_requests = []
    page.on("request", lambda r: htmx_requests.append(r.url) if r.headers.get("hx-request") else 0)

    reader = f"{origin}/companies/hostile.example/20160101000000/"
    page.goto(reader)
    page.wait_for_load_state("networkidle")
    policy = page.locator("#policy")
    # The markup is shown as text, and the <style> did not hide the page.
    expect(policy).to_contain_text("<script>alert(1)</script>")
    expect(policy).to_contain_text("onerror=alert(10)")
    expect(policy).to_be_visible()
    assert policy.locator(HOSTILE_FORBIDDEN).count() == 0
    # javascript:, data:, relative and fragment links are shown as their text.
    policy.get_by_text("this link").click()
    hrefs = [link.get_attribute("href") for link in policy.locator("a").all()]
    assert len(hrefs) == 3
    assert all(href.startswith(("https://", "mailto:")) for href in hrefs), hrefs
    for index in range(len(hrefs)):
        page.locator("#policy a").nth(index).click()
        page.wait_for_timeout(50)  # a javascript: navigation would open its dialog by now
        assert page.dialogs == []
        page.goto(reader)
    assert htmx_requests == []

    compare = f"{origin}/companies/hostile.example/compare/20150101000000...20160101000000/"
    page.goto(compare)
    page.wait_for_load_state("networkidle")
    comparison = page.locator("#comparison")
    expect(comparison.locator(".diff-row ins").first).to_contain_text("onerror=alert(10)")
    assert comparison.locator(HOSTILE_FORBIDDEN).count() == 0
    page.keyboard.press("n")
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"\?changes=only$"))
    assert page.dialogs == []
    # Only the switcher's own request (and the redirect it follows) went out.
    assert htmx_requests
    assert all(
        url.startswith(f"{origin}/companies/hostile.example/compare/") for url in htmx_requests
    )


def test_hostile_policy_runs_no_script_in_reader_or_compare(page, browser, tmp_path):
    write_policy(tmp_path, "hostile.example", "20150101000000", HOSTILE)
    write_policy(
        tmp_path,
        "hostile.example",
        "20160101000000",
        HOSTILE.replace("An image", "A new <img src=y onerror=alert(10)> image"),
    )
    assert import_paths([tmp_path]).new == 2
    _assert_hostile_pages_run_nothing(page, page.base_url)
    # Again with the Content Security Policy switched off: the sanitizer alone must hold.
    unprotected = _open_page(browser, bypass_csp=True)
    try:
        _assert_hostile_pages_run_nothing(unprotected, page.base_url)
    finally:
        unprotected.context.close()


def test_main_pages_break_no_content_security_policy(page, sample_dir, tmp_path):
    _import_sample(sample_dir, tmp_path, PSIPHON_FILES[:2])
    page.add_init_script(CSP_LISTENER)
    messages = []
    page.on("console", lambda msg: messages.append(msg.text))
    company = f"/companies/{PSIPHON}/"
    pages = [
        "/",
        company,
        company + "2018-07-21/",
        company + "compare/2018-05-18...2018-07-21/",
    ]
    for path in pages:
        response = page.goto(page.base_url + path)
        assert response.status == 200
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        # Exercise the scripts too: the live filter, and the compare keys and switcher.
        if path == "/":
            page.locator("#company-q").press_sequentially("psi")
            expect(page).to_have_url(re.compile(r"q=psi"))
        if "compare" in path:
            page.keyboard.press("n")
            page.keyboard.press("c")
            expect(page).to_have_url(re.compile(r"\?changes=only$"))
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__cspViolations") == [], path
    assert [text for text in messages if "Content Security Policy" in text] == []
    assert page.console_errors == []


WIDE = """# Wide things

| Cookie | Purpose | Lifetime | Party | Domain | Notes |
|---|---|---|---|---|---|
| session_identifier_cookie | authentication | 2 years | first | www.wide.example | long |

A link https://support.example.com/answers/{token}?hl=en&utm_source=policy&utm_medium=web

    preformatted {token}

`{token}` and **{token}**
""".replace("{token}", "x" * 300)


def test_reader_and_compare_fit_a_phone_screen(page, sample_dir, tmp_path, screenshot_dir):
    _import_sample(sample_dir, tmp_path, PSIPHON_FILES[1:])
    write_policy(tmp_path, "wide.example", "20150101000000", WIDE)
    write_policy(tmp_path, "wide.example", "20160101000000", WIDE.replace("Purpose", "Why"))
    import_paths([tmp_path / "wide.example_20150101000000.md"])
    import_paths([tmp_path / "wide.example_20160101000000.md"])
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

    page.goto(page.base_url + f"/companies/{PSIPHON}/2019-12-09/")
    assert page.evaluate(overflow) <= 1
    page.screenshot(path=screenshot_dir / "mobile-reader.png")
    page.goto(page.base_url + f"/companies/{PSIPHON}/compare/2018-07-21...2019-12-09/")
    assert page.evaluate(overflow) <= 1
    page.screenshot(path=screenshot_dir / "mobile-compare.png")

    page.goto(page.base_url + "/companies/wide.example/2016-01-01/")
    assert page.evaluate(overflow) <= 1
    page.goto(page.base_url + "/companies/wide.example/compare/2015-01-01...2016-01-01/")
    assert page.evaluate(overflow) <= 1
