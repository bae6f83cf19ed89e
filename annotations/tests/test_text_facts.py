"""One readable text for tags, diffs and "unchanged", and tags that survive a new derivation
of it (regression tests for the defects of issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.models import Annotation
from annotations.tests.factories import make_user, tag_text
from policies.models import PolicyText, Section, Snapshot, TextComparison
from policies.permissions import REVIEWER
from policies.reading.history import company_history
from policies.reading.reader import refresh_texts
from policies.reading.text import TEXT_VERSION, count_words
from policies.tests.factories import make_company, make_snapshot

LIST_POLICY = (
    "# Privacy\n\nWe collect your email.\n\n## Sharing\n\n"
    "We share it with advertisers, and\n\n* partners.\n* affiliates.\n"
)
LIST_POLICY_LATER = LIST_POLICY.replace("We collect your email.", "We collect your email address.")

pytestmark = pytest.mark.django_db


def _two_captures(old: str, new: str):
    company = make_company(slug="lists.example")
    first = make_snapshot(company, captured_at=datetime(2018, 1, 1, tzinfo=UTC), body=old)
    second = make_snapshot(company, captured_at=datetime(2019, 1, 1, tzinfo=UTC), body=new)
    Snapshot.objects.refresh_unchanged_flags([company.pk])
    return company, first, second


def test_tag_across_two_list_items_is_not_reported_changed_when_it_is_unchanged(client):
    company, first, second = _two_captures(LIST_POLICY, LIST_POLICY_LATER)
    tag_text(first, "advertisers, and\npartners.", make_user("rev", REVIEWER))

    response = client.get(
        reverse("compare", args=[company.slug, first.timestamp, second.timestamp])
    )

    html = response.content.decode()
    assert "changed or deleted" not in html


def test_tag_on_a_deleted_list_item_is_reported_changed(client):
    company, first, second = _two_captures(LIST_POLICY, LIST_POLICY.replace("* partners.\n", ""))
    tag_text(first, "partners.", make_user("rev", REVIEWER))

    response = client.get(
        reverse("compare", args=[company.slug, first.timestamp, second.timestamp])
    )

    assert "changed or deleted" in response.content.decode()


def test_a_full_stop_turned_into_an_exclamation_mark_is_a_change_everywhere():
    company, first, second = _two_captures(LIST_POLICY, LIST_POLICY.replace("email.", "email!"))

    second.refresh_from_db()
    row = company_history(company).rows[1]
    assert not second.unchanged
    assert not row.unchanged
    assert row.wording_only
    assert (row.words_added, row.words_removed) == (0, 0)


def test_rewrapped_lines_are_unchanged_on_the_flag_and_the_history():
    rewrapped = LIST_POLICY.replace("advertisers, and", "advertisers,\nand")
    company, first, second = _two_captures(LIST_POLICY, rewrapped)

    second.refresh_from_db()
    assert second.unchanged
    assert company_history(company).rows[1].unchanged


def test_word_count_is_the_readable_texts_count():
    text = make_snapshot(body=LIST_POLICY).text
    plains = Section.objects.filter(text=text).values_list("plain", flat=True)
    # Markdown markers ("#", "*") are not words; the reader's words are.
    assert text.word_count == sum(map(count_words, plains)) == 14


def _age(text: PolicyText) -> None:
    """Make a stored text look as an older derivation left it: sections' text in the old
    plain-text style ("• " bullets, blank lines between blocks), tags pointing into that."""
    for section in Section.objects.filter(text=text):
        old = "\n\n".join(
            ("• " + line) if line in ("partners.", "affiliates.") else line
            for line in section.plain.split("\n")
        )
        for tag in Annotation.objects.filter(section=section):
            words = tag.quote.split()
            start = old.find(words[0])
            quote = old[start : old.find(words[-1], start) + len(words[-1])]
            tag.start, tag.end, tag.quote = start, start + len(quote), quote
            tag.save()
        section.plain = old
        section.save()
    PolicyText.objects.filter(pk=text.pk).update(text_version=0, word_count=1)


def test_a_text_version_bump_reanchors_every_tag_and_clears_comparisons(client):
    company, first, second = _two_captures(LIST_POLICY, LIST_POLICY_LATER)
    reviewer = make_user("rev", REVIEWER)
    tag_text(first, "advertisers, and\npartners.", reviewer)
    tag_text(first, "affiliates.", reviewer, slug="first-party-collection-use")
    client.get(reverse("compare", args=[company.slug, first.timestamp, second.timestamp]))
    assert TextComparison.objects.exists()
    _age(first.text)
    assert any(t.quote.startswith("advertisers, and\n\n•") for t in Annotation.objects.all())

    call_command("refresh_texts", stdout=(out := __import__("io").StringIO()))

    assert "0 tag(s) could not be re-anchored" in out.getvalue()
    first.text.refresh_from_db()
    assert first.text.text_version == TEXT_VERSION
    assert first.text.word_count == 14
    assert not TextComparison.objects.filter(old_text=first.text).exists()
    for tag in Annotation.objects.select_related("section"):
        assert tag.section.plain[tag.start : tag.end] == tag.quote
    assert {t.quote for t in Annotation.objects.filter(snapshot=first)} == {
        "advertisers, and\npartners.",
        "affiliates.",
    }


def test_refresh_reports_a_tag_whose_words_are_gone():
    snapshot = make_snapshot(body=LIST_POLICY)
    tag = tag_text(snapshot, "affiliates.", make_user("rev", REVIEWER))
    Annotation.objects.filter(pk=tag.pk).update(quote="words never in the text", end=tag.start + 23)
    PolicyText.objects.filter(pk=snapshot.text_id).update(text_version=0)
    Section.objects.filter(pk=tag.section_id).update(plain="stale")

    report = refresh_texts()

    assert [problem.tag_id for problem in report.unanchored] == [tag.pk]
