"""A tag follows its clause: carried where unchanged, proposed where changed, noted where gone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from annotations.models import Annotation, AnnotationEvent, LineageEvent
from annotations.tagging.tags import Conflict, NotAllowed, delete_tag, review_tag, update_tag
from annotations.tests.factories import category, make_user, tag_text
from policies.importing.importer import import_paths
from policies.models import Snapshot
from policies.permissions import CURATOR, REVIEWER
from policies.tests.factories import make_company, make_snapshot, write_policy

pytestmark = pytest.mark.django_db

V1 = """# Acme privacy

## Sharing

We never sell your data. We share data with e.g. Google Inc. and other U.S. firms.

## Retention

We keep logs for 30 days.
"""
# The retention sentence changed a little, the sharing clause moved into another section.
V2 = """# Acme privacy

## Retention

We keep server logs for 30 days.

## Partners

We share data with e.g. Google Inc. and other U.S. firms.
"""
# Everything about retention is gone.
V3 = """# Acme privacy

## Partners

We share data with e.g. Google Inc. and other U.S. firms.
"""


def _history(*bodies: str, start_year: int = 2010) -> list[Snapshot]:
    company = make_company(slug="acme.example")
    return [
        make_snapshot(company, captured_at=datetime(start_year + n, 1, 1, tzinfo=UTC), body=b)
        for n, b in enumerate(bodies)
    ]


def _copies(origin: Annotation) -> dict[int, Annotation]:
    return {a.snapshot_id: a for a in origin.descendants.all()}


SHARING = "We share data with e.g. Google Inc. and other U.S. firms."
RETENTION = "We keep logs for 30 days."


def test_unchanged_clause_is_carried_to_every_capture_at_any_position():
    first, second, third = _history(V1, V2, V3)
    tag = tag_text(first, SHARING, make_user(), "third-party-sharing-collection")
    copies = _copies(tag)
    assert set(copies) == {second.pk, third.pk}
    for snapshot in (second, third):
        copy = copies[snapshot.pk]
        assert copy.kind == Annotation.Kind.CARRIED
        assert copy.status == Annotation.Status.ACTIVE
        assert copy.quote == SHARING
        assert copy.section.plain[copy.start : copy.end] == SHARING
        assert copy.section.heading == "Partners"


def test_identical_capture_gets_the_tag_at_the_same_place():
    first, second = _history(V1, V1)
    tag = tag_text(first, RETENTION, make_user())
    copy = _copies(tag)[second.pk]
    assert (copy.section_id, copy.start, copy.end) == (tag.section_id, tag.start, tag.end)
    assert copy.kind == Annotation.Kind.CARRIED


def test_changed_clause_is_proposed_for_review_with_both_wordings():
    first, second, _ = _history(V1, V2, V3)
    tag = tag_text(first, RETENTION, make_user())
    proposal = _copies(tag)[second.pk]
    assert proposal.kind == Annotation.Kind.PROPOSED
    assert proposal.status == Annotation.Status.PENDING
    assert proposal.quote == "We keep server logs for 30 days."
    assert proposal.origin_quote == RETENTION


def test_vanished_clause_is_recorded_in_the_history():
    first, second, third = _history(V1, V2, V3)
    tag = tag_text(first, RETENTION, make_user())
    assert third.pk not in _copies(tag)
    events = {(e.kind, e.before_id, e.after_id) for e in LineageEvent.objects.filter(origin=tag)}
    assert events == {("changed", first.pk, second.pk), ("removed", second.pk, third.pk)}
    removed = LineageEvent.objects.get(origin=tag, kind="removed")
    assert str(removed) == "Data Retention clause removed between 2011-01-01 and 2012-01-01"


def test_tag_made_on_a_later_capture_follows_backwards_too():
    first, second, third = _history(V1, V2, V3)
    tag = tag_text(third, SHARING, make_user(), "third-party-sharing-collection")
    assert set(_copies(tag)) == {first.pk, second.pk}


def test_capture_imported_after_tagging_gets_the_tags_at_import(tmp_path):
    write_policy(tmp_path, "acme.example", "20100101000000", V1)
    import_paths([tmp_path])
    first = Snapshot.objects.get()
    tag = tag_text(first, SHARING, make_user(), "third-party-sharing-collection")
    later = tmp_path / "later"
    later.mkdir()
    write_policy(later, "acme.example", "20110101000000", V2)
    import_paths([later])
    second = Snapshot.objects.latest()
    copy = Annotation.objects.get(origin=tag, snapshot=second)
    assert copy.kind == Annotation.Kind.CARRIED
    assert copy.section.plain[copy.start : copy.end] == SHARING


def test_tags_do_not_cross_companies():
    first, _ = _history(V1, V1)
    other = make_company(slug="other.example")
    make_snapshot(other, body=V1)
    tag = tag_text(first, SHARING, make_user(), "third-party-sharing-collection")
    assert tag.descendants.count() == 1


def test_quote_must_equal_the_text_at_the_offsets():
    (first,) = _history(V1)
    tag = tag_text(first, SHARING, make_user())
    assert tag.quote == tag.section.plain[tag.start : tag.end]
    with pytest.raises(IntegrityError), transaction.atomic():
        Annotation.objects.filter(pk=tag.pk).update(end=tag.end + 5)


def test_offsets_must_be_ordered():
    (first,) = _history(V1)
    tag = tag_text(first, SHARING, make_user())
    with pytest.raises(IntegrityError), transaction.atomic():
        Annotation.objects.filter(pk=tag.pk).update(start=tag.end, end=tag.start)


def test_double_submit_creates_one_tag():
    (first,) = _history(V1)
    user = make_user()
    one = tag_text(first, SHARING, user)
    two = tag_text(first, SHARING, user)
    assert one.pk == two.pk
    assert Annotation.objects.filter(kind="original").count() == 1


def test_second_writer_gets_a_conflict_not_a_silent_overwrite():
    (first,) = _history(V1)
    author = make_user("author", REVIEWER)
    tag = tag_text(first, SHARING, author)
    update_tag(tag.pk, author, tag.version, note="first edit")
    with pytest.raises(Conflict) as caught:
        update_tag(tag.pk, author, tag.version, note="stale edit")
    assert caught.value.current.note == "first edit"
    tag.refresh_from_db()
    assert tag.note == "first edit"


def test_reviewer_changes_only_own_tags_curator_anyones():
    (first,) = _history(V1)
    author = make_user("author", REVIEWER)
    other = make_user("other", REVIEWER)
    curator = make_user("cura", CURATOR)
    tag = tag_text(first, SHARING, author)
    with pytest.raises(NotAllowed):
        update_tag(tag.pk, other, tag.version, note="not mine")
    changed = update_tag(tag.pk, curator, tag.version, category=category("other"))
    assert changed.category.slug == "other"
    delete_tag(tag.pk, curator, changed.version)
    assert not Annotation.objects.filter(pk=tag.pk).exists()


def test_copies_follow_the_originals_category_and_go_when_it_goes():
    first, second, _ = _history(V1, V2, V3)
    author = make_user("author", REVIEWER)
    tag = tag_text(first, SHARING, author, "third-party-sharing-collection")
    update_tag(tag.pk, author, tag.version, category=category("other"))
    assert set(tag.descendants.values_list("category__slug", flat=True)) == {"other"}
    delete_tag(tag.pk, author, tag.version + 1)
    assert Annotation.objects.count() == 0


def test_every_create_change_and_delete_is_audited():
    (first,) = _history(V1)
    author = make_user("author", REVIEWER)
    tag = tag_text(first, SHARING, author)
    update_tag(tag.pk, author, tag.version, note="why")
    delete_tag(tag.pk, author, tag.version + 1)
    events = list(AnnotationEvent.objects.filter(annotation_pk=tag.pk).order_by("at", "pk"))
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert events[1].before["note"] == ""
    assert events[1].after["note"] == "why"
    assert events[2].after is None
    assert all(e.user == author for e in events)


def test_review_confirms_or_dismisses_a_proposal():
    first, second, _ = _history(V1, V2, V3)
    reviewer = make_user("rev", REVIEWER)
    tag = tag_text(first, RETENTION, reviewer)
    proposal = _copies(tag)[second.pk]
    confirmed = review_tag(proposal.pk, reviewer, proposal.version, "confirm")
    assert confirmed.status == Annotation.Status.ACTIVE
    with pytest.raises(Conflict):
        review_tag(proposal.pk, reviewer, proposal.version, "dismiss")
    dismissed = review_tag(proposal.pk, reviewer, confirmed.version, "dismiss")
    assert dismissed.status == Annotation.Status.DISMISSED


def test_capture_imported_between_two_others_updates_only_nearby_events(tmp_path):
    first, third = _history(V1, V3)
    tag = tag_text(first, RETENTION, make_user())
    before = {(e.kind, e.before_id, e.after_id) for e in LineageEvent.objects.filter(origin=tag)}
    assert before == {("removed", first.pk, third.pk)}
    write_policy(tmp_path, "acme.example", "20101231000000", V2)
    import_paths([tmp_path])
    middle = Snapshot.objects.get(captured_at__year=2010, captured_at__month=12)
    events = {(e.kind, e.before_id, e.after_id) for e in LineageEvent.objects.filter(origin=tag)}
    assert events == {("changed", first.pk, middle.pk), ("removed", middle.pk, third.pk)}


def test_import_keeps_events_away_from_the_new_capture(tmp_path):
    first, second, third = _history(V1, V1, V3)
    tag = tag_text(first, RETENTION, make_user())
    write_policy(tmp_path, "acme.example", "20200101000000", V3)
    import_paths([tmp_path])
    events = {(e.kind, e.before_id, e.after_id) for e in LineageEvent.objects.filter(origin=tag)}
    assert events == {("removed", second.pk, third.pk)}
