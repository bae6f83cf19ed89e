"""Tagging in Debian's Chromium, as a reviewer signed in through the real form.

One company with two captures: a clause that stays the same (its tags are carried to the next
capture at once) and a clause that changes (its tags are proposed there, for review). The tests
tag by clicking, by keys and by selecting words, then reload, follow the tags to the next capture,
change and remove them from the tag list, and confirm a proposed tag from the review queue.
Screenshots land in screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from annotations.models import Annotation
from annotations.tests.factories import make_user, tag_text
from policies.importing.importer import import_paths
from policies.models import Snapshot
from policies.permissions import REVIEWER
from policies.tests.browser import restore_migrated_rows, sign_in
from policies.tests.factories import write_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPANY = "tagco.example"
FIRST, SECOND = "2019-01-01", "2020-01-01"

# Sentences the tests tag; LOGS is the clause that changes ("thirty" → "ninety").
EMAIL = "We collect your email address when you sign up."
LOGS = "We keep server logs for thirty days."
ADS = "We share your data with advertising partners to show you relevant ads."
SELL = "We never sell your data."
ENCRYPT = "We encrypt all data in transit and at rest."
WORDS = "encrypt all data in transit"  # selected with the mouse, inside ENCRYPT

BODY = f"""# Tagco privacy policy

{EMAIL} {LOGS}

## Sharing

{ADS} {SELL}

## Security

{ENCRYPT} Write to privacy@tagco.example with questions.
"""


@pytest.fixture
def captures(tmp_path) -> list[Snapshot]:
    """Two captures of one company; the roles and taxonomy come back after other tests' flushes."""
    restore_migrated_rows()
    write_policy(tmp_path, COMPANY, "20190101000000", BODY)
    write_policy(tmp_path, COMPANY, "20200101000000", BODY.replace("thirty", "ninety"))
    assert import_paths([tmp_path]).new == 2
    return list(Snapshot.objects.order_by("captured_at"))


def _reader(page: Page, day: str) -> None:
    page.goto(page.base_url + f"/companies/{COMPANY}/{day}/")
    expect(page.locator("#policy[data-can-tag]")).to_be_visible()


def _clause(page: Page, text: str):
    return page.locator("#policy span.clause", has_text=text).first


def _tag_for(page: Page, text: str):
    """The tag list entry whose quote is `text`."""
    return page.locator("ul.section-tags li[data-annotation]", has=page.locator("q", has_text=text))


def _expect_tagged(page: Page, text: str, slug: str) -> None:
    entry = _tag_for(page, text)
    expect(entry).to_have_count(1)
    expect(entry).to_have_attribute("data-category", slug)
    pk = entry.get_attribute("data-annotation")
    marks = page.locator(f'mark.tag[data-annotation="{pk}"]')
    expect(marks.first).to_have_attribute("data-category", slug)
    assert "".join(marks.locator("span.clause").all_text_contents()) == text


def _select_with_mouse(page: Page, clause_text: str, words: str) -> None:
    """Drag the mouse from the first to the last character of `words` inside a clause."""
    box = page.evaluate(
        """([clauseText, words]) => {
          const frag = Array.from(document.querySelectorAll("#policy span.clause"))
            .find((el) => el.textContent.includes(clauseText));
          frag.scrollIntoView({block: "center"});
          const node = frag.firstChild;
          const at = node.textContent.indexOf(words);
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + 1);
          const first = range.getBoundingClientRect();
          range.setStart(node, at + words.length - 1);
          range.setEnd(node, at + words.length);
          const last = range.getBoundingClientRect();
          return {x1: first.left + 1, y1: first.top + first.height / 2,
                  x2: last.right - 1, y2: last.top + last.height / 2};
        }""",
        [clause_text, words],
    )
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=5)
    page.mouse.up()


def _record_posts(page: Page) -> list[dict]:
    """Every POST the page sends, with its CSRF header and the status it got back."""
    posts: list[dict] = []

    def on_response(response):
        request = response.request
        if request.method == "POST":
            posts.append(
                {
                    "path": request.url.removeprefix(page.base_url),
                    "csrf": request.headers.get("x-csrftoken", ""),
                    "htmx": request.headers.get("hx-request") == "true",
                    "status": response.status,
                }
            )

    page.on("response", on_response)
    return posts


def test_reviewer_tags_by_click_key_and_selection_and_the_tags_follow_the_clause(
    page, captures, screenshot_dir
):
    make_user("rev", REVIEWER)
    sign_in(page, "rev")
    posts = _record_posts(page)
    _reader(page, FIRST)
    picker = page.locator("#tag-picker")

    # Click a clause, then a category button in the picker.
    _clause(page, ADS).click()
    expect(picker).to_be_visible()
    expect(picker.locator(".picker-quote")).to_have_text(f"“{ADS}”")
    expect(picker).to_be_in_viewport(ratio=1)  # all of it, not just the first buttons
    page.screenshot(path=screenshot_dir / "tagging-picker.png")
    picker.locator('.picker-button[data-category="third-party-sharing-collection"]').click()
    expect(picker).to_be_hidden()
    _expect_tagged(page, ADS, "third-party-sharing-collection")

    # Esc closes the picker without tagging.
    _clause(page, EMAIL).click()
    expect(picker).to_be_visible()
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(_tag_for(page, EMAIL)).to_have_count(0)

    # Keys: j moves the current clause on from the one clicked last, a digit tags it
    # (5: Data Retention).
    for _ in range(10):
        page.keyboard.press("j")
        if LOGS in (page.locator("#policy span.clause.current").first.text_content() or ""):
            break
    expect(page.locator("#policy span.clause.current").first).to_have_text(LOGS)
    page.keyboard.press("5")
    _expect_tagged(page, LOGS, "data-retention")
    expect(picker).to_be_hidden()
    # The place is kept across the swap: j goes on to the next clause, not back to the top.
    page.keyboard.press("j")
    expect(page.locator("#policy span.clause.current").first).to_have_text(
        re.compile(f"^(Sharing|{ADS})$")
    )

    # Click a clause, then a digit while the picker is open (0: Other).
    _clause(page, SELL).click()
    expect(picker).to_be_visible()
    page.keyboard.press("0")
    _expect_tagged(page, SELL, "other")

    # Select words with the mouse, then pick with a key (6: Data Security).
    _select_with_mouse(page, ENCRYPT, WORDS)
    expect(picker).to_be_visible()
    expect(picker.locator(".picker-quote")).to_have_text(f"“{WORDS}”")
    page.keyboard.press("6")
    _expect_tagged(page, WORDS, "data-security")
    page.evaluate("window.getSelection().removeAllRanges(); window.scrollTo(0, 0)")
    page.screenshot(path=screenshot_dir / "tagging-done.png", full_page=True)

    # Reload: every tag is stored.
    page.reload()
    expect(page.locator("ul.section-tags li[data-annotation]")).to_have_count(4)
    _expect_tagged(page, ADS, "third-party-sharing-collection")
    _expect_tagged(page, LOGS, "data-retention")
    _expect_tagged(page, SELL, "other")
    _expect_tagged(page, WORDS, "data-security")
    assert Annotation.objects.filter(kind="original").count() == 4

    # The next capture: unchanged clauses carry their tags, the changed one awaits review.
    page.get_by_role("link", name=re.compile(r"Next capture")).click()
    expect(page).to_have_url(re.compile(r"/20200101000000/$|/2020-01-01/$"))
    carried = _tag_for(page, ADS)
    expect(carried).to_contain_text(f"carried from {FIRST}")
    _expect_tagged(page, ADS, "third-party-sharing-collection")
    _expect_tagged(page, SELL, "other")
    _expect_tagged(page, WORDS, "data-security")
    expect(carried.locator("form")).to_have_count(0)  # a carried copy is changed at its origin
    changed = _tag_for(page, LOGS.replace("thirty", "ninety"))
    expect(changed).to_contain_text("proposed: the clause changed since")
    expect(changed).to_have_attribute("data-category", "data-retention")
    _clause(page, ADS).scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "carried.png")

    # The review queue has the changed clause; Confirm takes it off the queue.
    proposed = Annotation.objects.get(kind="proposed")
    page.goto(page.base_url + "/review/")
    item = page.locator(f'article.review-item[data-annotation="{proposed.pk}"]')
    expect(item).to_have_attribute("data-category", "data-retention")
    expect(item.locator("del")).to_have_text("thirty")
    expect(item.locator("ins")).to_have_text("ninety")
    page.screenshot(path=screenshot_dir / "review.png", full_page=True)
    item.get_by_role("button", name="Confirm").click()
    expect(item).to_have_count(0)
    page.reload()
    expect(page.locator("article.review-item")).to_have_count(0)
    expect(page.locator("#main")).to_contain_text("Nothing waits for review.")
    proposed.refresh_from_db()
    assert proposed.status == Annotation.Status.ACTIVE

    # Every POST went through htmx with the CSRF header, and succeeded.
    assert [p["path"] for p in posts] == ["/annotations/"] * 4 + [f"/review/{proposed.pk}/"]
    assert all(p["csrf"] and p["htmx"] and p["status"] == 200 for p in posts), posts
    assert page.dialogs == []
    assert page.console_errors == []


def test_reviewer_changes_and_removes_a_tag_from_the_tag_list(page, captures, screenshot_dir):
    reviewer = make_user("rev", REVIEWER)
    tag_text(captures[0], SELL, reviewer, slug="other")
    tag_text(captures[0], ENCRYPT, reviewer, slug="data-security")
    sign_in(page, "rev")
    posts = _record_posts(page)
    _reader(page, FIRST)

    # Change: "Edit" opens the tag's editor in its entry; another category, then "Save".
    entry = _tag_for(page, SELL)
    entry.get_by_role("link", name="Edit").click()
    entry.get_by_label("Category").select_option("third-party-sharing-collection")
    page.screenshot(path=screenshot_dir / "tag-editor.png")
    entry.get_by_role("button", name="Save").click()
    _expect_tagged(page, SELL, "third-party-sharing-collection")
    page.screenshot(path=screenshot_dir / "tag-changed.png")

    # Remove: the entry and its highlight go.
    entry = _tag_for(page, ENCRYPT)
    pk = entry.get_attribute("data-annotation")
    entry.get_by_role("link", name="Edit").click()
    entry.get_by_role("button", name=re.compile(r"^Remove")).click()
    expect(_tag_for(page, ENCRYPT)).to_have_count(0)
    expect(page.locator(f'mark.tag[data-annotation="{pk}"]')).to_have_count(0)

    # Both stick, here and on the next capture, where the copies follow the original.
    page.reload()
    _expect_tagged(page, SELL, "third-party-sharing-collection")
    expect(_tag_for(page, ENCRYPT)).to_have_count(0)
    _reader(page, SECOND)
    _expect_tagged(page, SELL, "third-party-sharing-collection")
    expect(_tag_for(page, ENCRYPT)).to_have_count(0)
    expect(page.locator("mark.tag")).to_have_count(1)

    assert [p["path"] for p in posts] == [
        f"/annotations/{_pk(SELL)}/edit/",
        f"/annotations/{pk}/delete/",
    ]
    assert all(p["csrf"] and p["htmx"] and p["status"] == 200 for p in posts), posts
    assert page.dialogs == []
    assert page.console_errors == []


def _pk(quote: str) -> int:
    return Annotation.objects.get(kind="original", quote=quote).pk


def test_review_says_what_happened_and_offers_undo_for_a_few_seconds(
    page, captures, screenshot_dir
):
    tag_text(captures[0], LOGS, make_user("author", REVIEWER))
    proposed = Annotation.objects.get(kind="proposed")
    sign_in(page, make_user("rev", REVIEWER).username)
    page.clock.install()  # the Undo button's few seconds pass when the test says so
    page.goto(page.base_url + "/review/")
    expect(page.locator("#review-count")).to_have_text("1 waiting")
    item = page.locator(f"#review-{proposed.pk}")
    item.get_by_role("button", name="Dismiss").click()
    expect(item).to_contain_text("Dismissed: Data Retention on tagco.example, 2020-01-01.")
    expect(page.locator("#review-count")).to_have_text("")
    expect(page.locator("#review-waiting")).to_have_text("0 tags waiting.")
    page.screenshot(path=screenshot_dir / "review-undo.png")

    item.get_by_role("button", name="Undo").click()
    expect(item.get_by_role("button", name="Confirm")).to_be_visible()
    expect(page.locator("#review-count")).to_have_text("1 waiting")
    proposed.refresh_from_db()
    assert proposed.status == Annotation.Status.PENDING

    item.get_by_role("button", name="Confirm").click()
    expect(item.get_by_role("button", name="Undo")).to_be_visible()
    page.clock.run_for(11_000)
    expect(item.get_by_role("button", name="Undo")).to_have_count(0)
    expect(item).to_contain_text("Confirmed: Data Retention")
    assert page.console_errors == []


def test_tagging_ones_proposed_copy_confirms_it_and_the_page_says_so(
    page, captures, screenshot_dir
):
    rev = make_user("rev", REVIEWER)
    tag_text(captures[0], LOGS, rev)
    proposed = Annotation.objects.get(kind="proposed")
    sign_in(page, rev.username)
    _reader(page, SECOND)
    changed = LOGS.replace("thirty", "ninety")
    expect(_tag_for(page, changed)).to_contain_text("awaiting review")
    _clause(page, changed).click()
    page.keyboard.press("5")  # Data Retention, the proposed copy's category
    expect(page.locator("#tag-messages")).to_contain_text(
        "Your Data Retention tag had been proposed here from 2019-01-01; "
        "tagging the clause confirmed it. "
        "Confirmed: Data Retention on tagco.example, 2020-01-01."
    )
    expect(_tag_for(page, changed)).to_contain_text("confirmed in review")
    expect(page.locator("#tag-picker")).to_be_hidden()
    page.screenshot(path=screenshot_dir / "tagging-confirms-proposal.png")
    proposed.refresh_from_db()
    assert proposed.status == Annotation.Status.ACTIVE
    assert Annotation.objects.filter(snapshot=captures[1], kind="original").count() == 0
    assert page.console_errors == []


def test_a_selection_inside_words_is_widened_to_whole_words(page, captures, screenshot_dir):
    sign_in(page, make_user("rev", REVIEWER).username)
    _reader(page, FIRST)
    picker = page.locator("#tag-picker")
    # "crypt all data in tran": starts and ends inside a word.
    _select_with_mouse(page, ENCRYPT, "crypt all data in tran")
    expect(picker).to_be_visible()
    expect(picker.locator(".picker-quote")).to_have_text(f"“{WORDS}”")
    expect(picker.locator(".picker-widened")).to_be_visible()
    page.screenshot(path=screenshot_dir / "tagging-widened.png")
    page.keyboard.press("6")
    _expect_tagged(page, WORDS, "data-security")
    # A selection of whole words is left as it is, and the picker says nothing about it.
    _select_with_mouse(page, SELL, "never sell")
    expect(picker.locator(".picker-quote")).to_have_text("“never sell”")
    expect(picker.locator(".picker-widened")).to_be_hidden()
    assert page.console_errors == []


LINKED = "http://www.mopub.com/optout/"
LINK_BODY = f"""# Opt-out policy

## Opting out

To opt out of interest-based ads, visit:

* [{LINKED}]({LINKED})
* [http://www.inmobi.com/page/opt-out/](http://www.inmobi.com/page/opt-out/)
"""


def test_a_clause_that_is_wholly_a_link_is_tagged_by_clicking_it(page, tmp_path):
    restore_migrated_rows()
    write_policy(tmp_path, "links.example", "20180518000000", LINK_BODY)
    assert import_paths([tmp_path]).new == 1
    make_user("rev", REVIEWER)
    sign_in(page, "rev")
    page.goto(page.base_url + "/companies/links.example/2018-05-18/")
    url = page.url
    picker = page.locator("#tag-picker")

    page.locator("#policy a", has_text=LINKED).click()

    expect(picker).to_be_visible()
    assert page.url == url  # the click did not follow the dead archive link
    expect(picker.locator(".picker-quote")).to_have_text(f"“{LINKED}”")
    expect(picker.locator(".picker-link a")).to_have_attribute("href", LINKED)
    picker.locator('.picker-button[data-category="user-choice-control"]').click()
    expect(page.locator("ul.section-tags li[data-annotation]")).to_have_count(1)
    tag = Annotation.objects.get()
    assert (tag.quote, tag.category.slug) == (LINKED, "user-choice-control")
