"""import_opp115: the OPP-115 release (here: small fixtures in its format) as a campaign."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.campaigns.adjudication import agreement
from annotations.models import Annotation, Assignment, Campaign, TaggedWording
from policies.models import Snapshot

FIXTURES = Path(__file__).parent / "data" / "opp115"

pytestmark = pytest.mark.django_db


def _run(path: Path = FIXTURES) -> str:
    out = StringIO()
    call_command("import_opp115", str(path), stdout=out)
    return out.getvalue()


def test_policies_become_captures_with_one_section_per_segment():
    _run()

    capture = Snapshot.objects.select_related("company").get(company__slug="example.com")
    sections = list(capture.text.sections.order_by("position"))
    assert capture.captured_at.date().isoformat() == "2015-07-02"
    assert [s.anchor for s in sections][:2] == ["segment-1", "segment-2"]
    for section in sections:
        assert section.plain  # the text annotators read, stored as the reader's text


def test_annotators_become_inactive_users_and_everyone_is_done():
    _run()

    campaign = Campaign.objects.get(slug="opp-115")
    annotators = list(campaign.annotators.order_by("username"))
    assert annotators
    assert all(u.username.startswith("opp115-") and not u.is_active for u in annotators)
    assert not Assignment.objects.filter(campaign=campaign, done_at__isnull=True).exists()


def test_every_tag_quotes_its_section_at_its_offsets_in_whole_words():
    _run()

    tags = list(Annotation.objects.select_related("section", "category"))
    assert tags
    for tag in tags:
        assert tag.section.plain[tag.start : tag.end] == tag.quote
        assert tag.campaign.slug == "opp-115"
        assert tag.layer == "annotator"
        text = tag.section.plain
        assert not (tag.start > 0 and text[tag.start - 1].isalnum() and text[tag.start].isalnum())


def test_running_it_again_imports_nothing_twice():
    _run()
    before = (Snapshot.objects.count(), Annotation.objects.count())

    output = _run()

    assert (Snapshot.objects.count(), Annotation.objects.count()) == before
    assert "0 policies imported" in output
    assert "already present" in output


def test_agreement_on_the_imported_campaign_has_a_row_per_category_and_all():
    _run()

    rows, units = agreement(Campaign.objects.get(slug="opp-115"))

    assert rows[-1].category == "all"
    assert len(rows) == 11
    assert units


def test_a_path_that_is_not_the_release_is_refused_with_its_name(tmp_path):
    with pytest.raises(CommandError, match=str(tmp_path)):
        _run(tmp_path)


def test_the_imported_tags_join_the_suggestions_index_at_once():
    _run()

    # indexed by the import itself (reading a page never writes the index)
    assert TaggedWording.objects.filter(tag__campaign__slug="opp-115").count() == (
        Annotation.objects.filter(campaign__slug="opp-115").count()
    )
