"""Creating, changing, removing and reviewing tags: validation, conflicts, the audit log, lineage.

Views and commands call these functions; each runs in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotations.campaigns.campaigns import campaign_for
from annotations.lineage import follow as lineage
from annotations.models import Annotation, AnnotationEvent, Campaign, Category
from annotations.suggesting.index import index_new_tags
from annotations.suggesting.model import maybe_train
from policies.models import Company, Section, Snapshot
from policies.permissions import can_change_tag, can_review


class TaggingError(ValueError):
    """A request that cannot be applied; the message says which field and why."""


class Conflict(Exception):
    """The tag changed since the client loaded it; `current` is its state now (None: deleted)."""

    def __init__(self, current: Annotation | None) -> None:
        super().__init__("This tag was changed by someone else.")
        self.current = current


class NotAllowed(PermissionError):
    """The user may not change this tag."""


@dataclass(frozen=True)
class TagRequest:
    snapshot: Snapshot
    section: Section
    start: int
    end: int
    quote: str
    category: Category
    attributes: dict
    note: str = ""
    # Gold tags are made by adjudication with their campaign; other tags belong to the campaign
    # in which their author annotates the capture, if any.
    layer: str = Annotation.Layer.ANNOTATOR
    campaign: Campaign | None = None
    # A tag made by accepting a suggestion: where the suggestion came from.
    suggestion: dict | None = None


def snapshot_state(annotation: Annotation) -> dict:
    """What the audit log and a 409 response record of a tag."""
    return {
        "id": annotation.pk,
        "snapshot": annotation.snapshot_id,
        "section": annotation.section_id,
        "start": annotation.start,
        "end": annotation.end,
        "quote": annotation.quote,
        "category": annotation.category.slug,
        "category_name": annotation.category.name,
        "attributes": annotation.attributes,
        "note": annotation.note,
        "status": annotation.status,
        "kind": annotation.kind,
        "version": annotation.version,
    }


def pages_changed_for(snapshot_ids) -> None:
    """Tags on these captures changed (or their review queue did): tags made since the last
    indexed join the wording index (so they are suggested elsewhere, whichever path made them:
    tagging, review, imports), and their companies' pages are served anew (tags follow their
    clauses within one company, so its pages hold every copy). Call it inside the change's
    transaction; reading pages never writes the index."""
    index_new_tags()
    companies = Snapshot.objects.filter(pk__in=snapshot_ids).values("company_id")
    Company.objects.pages_changed(companies)


def _audit(action: str, annotation_pk: int, user, before=None, after=None) -> AnnotationEvent:
    return AnnotationEvent.objects.create(
        annotation_pk=annotation_pk, action=action, user=user, before=before, after=after
    )


def validate_span(section: Section, start: int, end: int, quote: str) -> None:
    """The quote must be exactly the section's text at the offsets, and whole words: a tag
    never starts or ends inside a word (the reader widens a selection to whole words first)."""
    text = section.plain
    if not 0 <= start < end <= len(text):
        raise TaggingError(
            f"start and end must satisfy 0 <= start < end <= {len(text)} (got {start} and {end})"
        )
    if text[start:end] != quote:
        raise TaggingError("quote does not match the section text at these offsets")
    for edge, where in ((start, "starts"), (end, "ends")):
        if _inside_word(text, edge):
            raise TaggingError(
                f"the selection {where} inside the word “{_word_at(text, edge)}”: "
                "select whole words"
            )


def _inside_word(text: str, at: int) -> bool:
    return 0 < at < len(text) and text[at - 1].isalnum() and text[at].isalnum()


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """A span widened to whole words, outer spaces trimmed: what `validate_span` accepts
    (the reader widens selections the same way in tagging.js)."""
    while _inside_word(text, start):
        start -= 1
    while _inside_word(text, end):
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _word_at(text: str, at: int) -> str:
    """The whole word around offset `at` (letters and digits)."""
    first, last = at, at
    while first > 0 and text[first - 1].isalnum():
        first -= 1
    while last < len(text) and text[last].isalnum():
        last += 1
    return text[first:last]


class Tagged(NamedTuple):
    """What `create_tag` did: the tag on the span, whether it is new, and whether the span held
    the user's proposed copy awaiting review, which tagging confirmed."""

    tag: Annotation
    created: bool
    confirmed: bool = False


def create_tag(request: TagRequest, user, *, confirm_own_proposal: bool = True) -> Tagged:
    """Tag a span; returns the tag and what happened (`Tagged`).

    The new tag is carried to the company's other captures where the clause is unchanged and
    proposed for review where it changed.

    Where the user's tag is on the span already (one person tags a span with a category once),
    no second tag is made and that tag is returned with created=False: a double submit, or a
    copy lineage carried there. Where it is the user's copy proposed there and awaiting review,
    the user has just said the clause has this category, so it is confirmed as the review queue
    confirms it (`review_tag`) and returned with confirmed=True; `confirm_own_proposal=False`
    leaves it pending (an import restores recorded tags, nobody decides anything).
    """
    if request.section.text_id != request.snapshot.text_id:
        raise TaggingError("section does not belong to this capture")
    validate_span(request.section, request.start, request.end, request.quote)
    prefix, suffix = lineage.context_around(request.section.plain, request.start, request.end)
    try:
        with transaction.atomic():
            annotation = Annotation.objects.create(
                snapshot=request.snapshot,
                section=request.section,
                start=request.start,
                end=request.end,
                quote=request.quote,
                prefix=prefix,
                suffix=suffix,
                category=request.category,
                attributes=request.attributes,
                note=request.note,
                annotator=user,
                layer=request.layer,
                campaign=request.campaign or campaign_for(user, request.snapshot.pk),
                suggestion=request.suggestion,
            )
            _audit("create", annotation.pk, user, after=snapshot_state(annotation))
            lineage.follow([annotation])
            maybe_train()  # a new category model once enough tags have accumulated
            # Suggested elsewhere from now on (with any copies lineage proposed for review).
            pages_changed_for([annotation.snapshot_id])
    except IntegrityError:
        return _already_tagged(request, user, confirm_own_proposal)
    return Tagged(annotation, True)


def _already_tagged(request: TagRequest, user, confirm_own_proposal: bool) -> Tagged:
    """`create_tag` where the user's tag is on the span already: that tag, or, when it is
    their copy awaiting review, that copy confirmed as the review queue confirms it."""
    with transaction.atomic():
        # Locked, so that no review changes it between this read and the confirm.
        existing = (
            Annotation.objects.shown()
            .select_for_update()
            .filter(
                snapshot=request.snapshot,
                section=request.section,
                start=request.start,
                end=request.end,
                category=request.category,
                annotator=user,
                layer=request.layer,
            )
            .first()
        )
        if existing is None:
            raise TaggingError("this span could not be tagged: reload the page")
        # Awaiting review: what the review queue lists (`pending_review`).
        pending = existing.status == Annotation.Status.PENDING
        if pending and confirm_own_proposal and can_review(user):
            confirmed = review_tag(existing.pk, user, existing.version, "confirm")
            return Tagged(confirmed, False, True)
    return Tagged(existing, False)


def _locked(annotation_id: int, version: int) -> Annotation:
    """The tag, locked for this transaction, if it is still at `version`; else Conflict."""
    annotation = (
        Annotation.objects.select_for_update()
        .select_related("category")
        .filter(pk=annotation_id)
        .first()
    )
    if annotation is None or annotation.version != version:
        raise Conflict(annotation)
    return annotation


def _check_can_change(annotation: Annotation, user) -> None:
    if not can_change_tag(user, annotation.annotator_id):
        raise NotAllowed("Only the tag's author or a curator can change it.")


def update_tag(annotation_id: int, user, version: int, **changes) -> Annotation:
    """Change category, attributes or note. Raises Conflict if `version` is not current."""
    with transaction.atomic():
        annotation = _locked(annotation_id, version)
        _check_can_change(annotation, user)
        before = snapshot_state(annotation)
        for field, value in changes.items():
            setattr(annotation, field, value)
        annotation.version = F("version") + 1
        annotation.save()
        annotation.refresh_from_db()
        # Copies that follow this tag follow its category, attributes and note too.
        annotation.descendants.update(**changes)
        _audit("update", annotation.pk, user, before, snapshot_state(annotation))
        pages_changed_for([annotation.snapshot_id])
    return annotation


def delete_tag(annotation_id: int, user, version: int) -> None:
    """Remove a tag and the copies that follow it."""
    with transaction.atomic():
        annotation = _locked(annotation_id, version)
        _check_can_change(annotation, user)
        before = snapshot_state(annotation)
        origin = annotation.origin
        annotation.delete()
        _audit("delete", annotation_id, user, before=before)
        if origin is not None:
            lineage.refresh_events([origin])
        pages_changed_for([annotation.snapshot_id])


def review_tag(annotation_id: int, user, version: int, action: str, category=None) -> Annotation:
    """Confirm, dismiss or re-tag a proposed copy (reviewers and curators)."""
    if action not in {"confirm", "dismiss", "retag"}:
        raise TaggingError("action must be confirm, dismiss or retag")
    with transaction.atomic():
        annotation = _locked(annotation_id, version)
        before = snapshot_state(annotation)
        if action == "dismiss":
            annotation.status = Annotation.Status.DISMISSED
        else:
            annotation.status = Annotation.Status.ACTIVE
            if action == "retag":
                if category is None:
                    raise TaggingError("choose a category to re-tag with")
                annotation.category = category
        annotation.version = F("version") + 1
        annotation.save()
        annotation.refresh_from_db()
        _audit("review", annotation.pk, user, before, snapshot_state(annotation))
        pages_changed_for([annotation.snapshot_id])
    return annotation


# How long after a review its reviewer may take it back. The page offers Undo for a few seconds;
# the server allows longer so that a slow click or a page without JavaScript still works.
REVIEW_UNDO_SECONDS = 120


def _undoable_event(annotation: Annotation, user) -> AnnotationEvent | None:
    """The user's review that is still the tag's latest change and recent enough to take back."""
    last = (
        AnnotationEvent.objects.filter(annotation_pk=annotation.pk).order_by("-at", "-pk").first()
    )
    if (
        last is None
        or last.action != AnnotationEvent.Action.REVIEW
        or last.user_id != user.pk
        or "undoes" in (last.after or {})
        or (last.after or {}).get("version") != annotation.version
        or timezone.now() - last.at > timedelta(seconds=REVIEW_UNDO_SECONDS)
    ):
        return None
    return last


def can_undo_review(annotation: Annotation, user) -> bool:
    """True while the user may still take back their latest review of this tag."""
    return _undoable_event(annotation, user) is not None


def undo_review(annotation_id: int, user, version: int) -> Annotation:
    """Take back the user's review of a tag: its status and category return to what they were.

    Only the reviewer, only while the review is the tag's latest change, and only within
    REVIEW_UNDO_SECONDS. The audit log keeps the review and records the undo as another review
    event whose `after` names the event it undoes.
    """
    with transaction.atomic():
        annotation = _locked(annotation_id, version)
        event = _undoable_event(annotation, user)
        if event is None:
            raise TaggingError(
                "this review can no longer be undone (it is older than "
                f"{REVIEW_UNDO_SECONDS // 60} minutes, was changed since, or was not yours)"
            )
        before = snapshot_state(annotation)
        annotation.status = event.before["status"]
        annotation.category = Category.objects.get(slug=event.before["category"])
        annotation.version = F("version") + 1
        annotation.save()
        annotation.refresh_from_db()
        _audit(
            "review",
            annotation.pk,
            user,
            before,
            {**snapshot_state(annotation), "undoes": event.pk},
        )
        pages_changed_for([annotation.snapshot_id])
    return annotation
