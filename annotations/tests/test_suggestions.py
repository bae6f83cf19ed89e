"""Suggestions from the corpus's own wording: the index, near-identical clauses, the reader's
ghost highlights, accepting and rejecting, and where an accepted suggestion's origin goes."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from annotations.models import Annotation, Campaign, ClauseWording, SuggestionRejection
from annotations.suggesting import index
from annotations.suggesting.suggestions import suggestions_for
from annotations.suggesting.wording import bands, sentence_spans, similarity, wording_key
from annotations.tests.factories import make_user, tag_text
from policies.models import Section
from policies.permissions import CURATOR, RESEARCHER, REVIEWER
from policies.reading.reader import rendered_sections
from policies.tests.factories import make_company, make_snapshot

pytestmark = pytest.mark.django_db

SHARED = "We may share your information with our advertising partners for marketing purposes."
NEAR = "We may share your information with our advertising partner for marketing purposes."
POLICY_A = f"# Privacy\n\nWe collect your email address.\n\n## Sharing\n\n{SHARED} Ask us.\n"
POLICY_B = (
    f"# Our policy\n\n## Third parties\n\nHello there. {SHARED}\n\n## Contact\n\nWrite to us.\n"
)
POLICY_C = f"# Policy\n\n## Partners\n\n{NEAR}\n"


def test_wording_key_ignores_spacing_but_not_words():
    assert wording_key("We  share\ndata.") == wording_key("We share data.")
    assert wording_key("We share data.") != wording_key("We sell data.")
    assert -(2**63) <= wording_key("x") < 2**63


def test_similarity_and_bands_find_near_identical_clauses():
    assert similarity(SHARED, SHARED) == 1.0
    assert similarity(SHARED, NEAR) >= 0.9
    assert similarity(SHARED, "We never sell anything to anyone, ever, under any terms.") < 0.3
    # Near-identical clauses share at least one MinHash band; unrelated ones almost never do.
    assert set(bands(SHARED)) & set(bands(NEAR))
    assert not set(bands(SHARED)) & set(bands("Cookies are small files stored on your device."))


def test_sentence_spans_cut_blocks_into_sentences_with_their_offsets():
    text = "First sentence here. Second one, e.g. this.\nA list item"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "First sentence here.",
        "Second one, e.g. this.",
        "A list item",
    ]


def _captures():
    a = make_snapshot(make_company(slug="a.example"), body=POLICY_A)
    b = make_snapshot(
        make_company(slug="b.example"), body=POLICY_B, captured_at=datetime(2017, 1, 1, tzinfo=UTC)
    )
    return a, b


def test_the_wording_index_counts_other_companies_with_a_sentence():
    a, b = _captures()
    index.index_texts([a.text_id, b.text_id])

    key = wording_key(SHARED)
    assert ClauseWording.objects.filter(wording=key).count() == 2
    assert index.shared_wordings([key], a.company_id) == {key: 1}
    assert [o.company for o in index.occurrences(key)] == ["a.example", "b.example"]
    # Short clauses ("Ask us.") are not indexed.
    assert not ClauseWording.objects.filter(wording=wording_key("Ask us.")).exists()


def test_a_tag_is_suggested_on_the_same_wording_in_another_company():
    a, b = _captures()
    rita = make_user("rita", REVIEWER)
    tag_text(a, SHARED, rita, "third-party-sharing-collection")

    rosa = make_user("rosa", REVIEWER)
    found = suggestions_for(b, rendered_sections(b.text), rosa)

    (suggestion,) = [s for group in found.values() for s in group]
    assert suggestion.quote == SHARED
    assert suggestion.category.slug == "third-party-sharing-collection"
    assert suggestion.source == "wording"
    assert suggestion.provenance == "same wording tagged at a.example, 2015-06-01"


def test_a_near_identical_clause_gets_a_suggestion_with_its_score():
    a, _ = _captures()
    c = make_snapshot(make_company(slug="c.example"), body=POLICY_C)
    tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")

    found = suggestions_for(c, rendered_sections(c.text), make_user("rosa", REVIEWER))

    (suggestion,) = [s for group in found.values() for s in group]
    assert suggestion.source == "near"
    assert 0.9 <= suggestion.score < 1
    assert suggestion.quote == NEAR


def test_no_suggestions_for_readers_who_cannot_tag_nor_from_hidden_or_pending_tags(client):
    a, b = _captures()
    tag = tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    sections = rendered_sections(b.text)
    assert suggestions_for(b, sections, make_user("reader")) == {}

    Annotation.objects.filter(pk=tag.pk).update(status=Annotation.Status.PENDING)
    assert suggestions_for(b, sections, make_user("rosa", REVIEWER)) == {}


def test_a_running_campaigns_annotator_tags_are_not_suggested_elsewhere():
    a, b = _captures()
    rita = make_user("rita", REVIEWER)
    campaign = Campaign.objects.create(slug="study", name="Study")
    tag = tag_text(a, SHARED, rita, "third-party-sharing-collection")
    Annotation.objects.filter(pk=tag.pk).update(campaign=campaign)

    rosa = make_user("rosa", REVIEWER)
    assert suggestions_for(b, rendered_sections(b.text), rosa) == {}

    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)
    assert suggestions_for(b, rendered_sections(b.text), rosa)


def test_blind_campaigns_show_no_suggestions_unless_turned_on():
    a, b = _captures()
    tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    rosa = make_user("rosa", REVIEWER)
    campaign = Campaign.objects.create(slug="blind", name="Blind", blind=True)
    campaign.assignments.create(snapshot=b, annotator=rosa)
    sections = rendered_sections(b.text)

    assert suggestions_for(b, sections, rosa) == {}
    Campaign.objects.filter(pk=campaign.pk).update(suggestions=True)
    assert suggestions_for(b, sections, rosa)


def _reader(client, snapshot):
    return client.get(snapshot.get_absolute_url()).content.decode()


def test_the_reader_shows_ghost_highlights_with_accept_and_reject_controls(client):
    a, b = _captures()
    tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    client.force_login(make_user("rosa", REVIEWER))

    html = _reader(client, b)

    assert 'data-suggestion="' in html
    assert 'data-category="third-party-sharing-collection"' in html
    assert "data-accept" in html
    assert "data-reject" in html
    assert 'class="suggested tag-third-party-sharing-collection"' in html
    client.logout()
    assert "data-suggestion" not in _reader(client, b)  # anonymous readers are not offered any


def _post(client, name, snapshot, suggestion, **headers):
    data = {"snapshot": snapshot.pk, "section": suggestion.section_id, "key": suggestion.key}
    return client.post(reverse(name), data, **headers)


def _only(snapshot, user):
    found = suggestions_for(snapshot, rendered_sections(snapshot.text), user)
    (suggestion,) = [s for group in found.values() for s in group]
    return suggestion


def test_accepting_makes_a_tag_whose_origin_names_the_suggestion_in_every_export(client):
    a, b = _captures()
    source = tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    rosa = make_user("rosa", REVIEWER)
    client.force_login(rosa)

    response = _post(client, "suggestion_accept", b, _only(b, rosa), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'class="section"' in response.content.decode()  # the section fragment, swapped in
    tag = Annotation.objects.get(snapshot=b)
    assert (tag.annotator, tag.quote, tag.kind) == (rosa, SHARED, "original")
    assert tag.suggestion["source"] == "wording"
    assert tag.suggestion["tag"] == str(source.uuid)
    assert suggestions_for(b, rendered_sections(b.text), rosa) == {}  # accepted: not offered

    client.force_login(make_user("ruth", RESEARCHER))
    expected = f"suggestion: same wording (1.0) as tag urn:uuid:{source.uuid} at a.example"
    rows = list(csv.DictReader(io.StringIO(_export(client, "csv", "b.example"))))
    assert rows[0]["origin"].startswith(expected)
    line = json.loads(_export(client, "jsonl", "b.example").splitlines()[0])
    assert line["pal:suggestion"]["tag"] == str(source.uuid)
    graph = json.loads(_export(client, "jsonld", "b.example"))
    assert graph["items"][0]["pal:suggestion"]["source"] == "wording"


def _export(client, fmt: str, company: str) -> str:
    response = client.get(reverse("export_annotations", args=[fmt]), {"company": company})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_rejecting_is_recorded_and_hides_the_suggestion_for_everyone(client):
    a, b = _captures()
    tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    rosa = make_user("rosa", REVIEWER)
    client.force_login(rosa)

    response = _post(client, "suggestion_reject", b, _only(b, rosa))

    assert response.status_code == 302
    rejection = SuggestionRejection.objects.get()
    assert (rejection.quote, rejection.rejected_by, rejection.source) == (SHARED, rosa, "wording")
    curator = make_user("cora", CURATOR)
    assert suggestions_for(b, rendered_sections(b.text), curator) == {}
    assert not Annotation.objects.filter(snapshot=b).exists()


def test_a_stale_or_forged_suggestion_is_refused_with_a_message(client):
    _, b = _captures()
    client.force_login(make_user("rosa", REVIEWER))
    section = Section.objects.filter(text=b.text).first()
    data = {"snapshot": b.pk, "section": section.pk, "key": "1-0-5-data-retention"}

    response = client.post(reverse("suggestion_accept"), data)

    assert response.status_code == 400
    assert "no longer offered" in response.content.decode()
    assert not Annotation.objects.exists()


def test_suggestion_actions_need_the_tag_role(client):
    _, b = _captures()
    client.force_login(make_user("reader"))
    for name in ("suggestion_accept", "suggestion_reject", "suggestion_accept_all"):
        assert client.post(reverse(name), {"snapshot": b.pk}).status_code == 403


def test_accept_all_accepts_every_suggestion_above_the_minimum(client):
    a, b = _captures()
    tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    tag_text(a, SHARED, make_user("rita2", REVIEWER), "first-party-collection-use")
    client.force_login(make_user("rosa", REVIEWER))

    response = client.post(reverse("suggestion_accept_all"), {"snapshot": b.pk, "minimum": "0.9"})

    assert response.status_code == 302
    assert Annotation.objects.filter(snapshot=b).count() == 2


def test_a_new_tag_is_suggested_on_the_next_page_load(client, django_capture_on_commit_callbacks):
    a, b = _captures()
    client.force_login(make_user("rosa", REVIEWER))
    assert "data-suggestion" not in _reader(client, b)

    # committed: b's stored page for rosa is keyed by the site version, bumped after commits
    with django_capture_on_commit_callbacks(execute=True):
        tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")

    assert "data-suggestion" in _reader(client, b)


def test_the_shared_wording_pages_list_the_other_policies(client):
    a, b = _captures()
    index.index_texts([a.text_id])  # an import would have queued it

    response = client.get(reverse("shared_wording", args=["b.example", b.timestamp]))

    html = response.content.decode()
    assert "same wording in 1 other policy" in html
    key = wording_key(SHARED)
    detail = client.get(reverse("wording_detail", args=[key])).content.decode()
    assert "a.example" in detail
    assert "b.example" in detail
    assert client.get(reverse("wording_detail", args=[12345])).status_code == 404


def test_an_import_indexes_the_new_texts(tmp_path, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    from django.core.management import call_command

    from policies.importing.corpus import header_line

    folder = tmp_path / "corpus"
    folder.mkdir()
    header = header_line("x.example", "20170101000000")
    (folder / "x.example_2017-01-01.md").write_text(f"{header}\n\n{POLICY_B}")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_policies", str(folder), "--no-progress")

    assert ClauseWording.objects.filter(wording=wording_key(SHARED)).exists()


def test_an_accepted_suggestions_origin_survives_an_export_and_import_round_trip(tmp_path):
    from django.core.management import call_command

    from annotations.suggesting.suggestions import accept

    a, b = _captures()
    tag_text(a, SHARED, make_user("rita", REVIEWER), "third-party-sharing-collection")
    rosa = make_user("rosa", REVIEWER)
    suggestion = _only(b, rosa)
    accept(b, Section.objects.get(pk=suggestion.section_id), rosa, suggestion.key)
    path = tmp_path / "tags.jsonl"
    call_command("export_annotations", "--format", "jsonl", "--output", str(path))
    Annotation.objects.all().delete()

    call_command("import_annotations", str(path), "--no-progress", stdout=io.StringIO())

    imported = Annotation.objects.get(snapshot=b)
    assert imported.suggestion == suggestion.record()


def test_the_shared_wording_pages_queries_do_not_grow_with_the_corpus(
    client, django_assert_num_queries
):
    a, b = _captures()
    for n in range(3):  # more companies with the sentence
        other = make_company(slug=f"more{n}.example")
        index.index_texts([make_snapshot(other, body=POLICY_A.replace("Ask", f"Ask {n}")).text_id])
    index.index_texts([a.text_id, b.text_id])
    url = reverse("shared_wording", args=["b.example", b.timestamp])
    # session-less anonymous request: company, capture, "indexed?", sections, clauses, counts
    with django_assert_num_queries(6):
        assert "same wording in 4 other policies" in client.get(url).content.decode()
    detail = reverse("wording_detail", args=[wording_key(SHARED)])
    # the captures with the wording (with their companies), one clause's words
    with django_assert_num_queries(2):
        assert "more2.example" in client.get(detail).content.decode()
