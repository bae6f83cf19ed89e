"""Creating, changing, removing and reviewing tags: validation, conflicts, the audit log, lineage.

Views and commands call these functions; each runs in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from annotations.lineage import follow as lineage
from annotations.models import Annotation, AnnotationEvent, Category
from annotations.roles import CURATOR, has_role
from policies.models import Section, Snapshot


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


def _audit(action: str, annotation_pk: int, user, before=None, after=None) -> None:
    AnnotationEvent.objects.create(
        annotation_pk=annotation_pk, action=action, user=user, before=before, after=after
    )


def validate_span(section: Section, start: int, end: int, quote: str) -> None:
    """The quote must be exactly the section's text at the offsets."""
    if not 0 <= start < end <= len(section.plain):
        raise TaggingError(
            f"start and end must satisfy 0 <= start < end <= {len(section.plain)} "
            f"(got {start} and {end})"
        )
    if section.plain[start:end] != quote:
        raise TaggingError("quote does not match the section text at these offsets")


def create_tag(request: TagRequest, user) -> tuple[Annotation, bool]:
    """Tag a span; returns (tag, created). A double submit returns the first tag, created=False.

    The new tag is carried to the company's other captures where the clause is unchanged and
    proposed for review where it changed.
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
            )
            _audit("create", annotation.pk, user, after=snapshot_state(annotation))
            lineage.follow([annotation])
    except IntegrityError:
        existing = (
            Annotation.objects.shown()
            .filter(
                snapshot=request.snapshot,
                section=request.section,
                start=request.start,
                end=request.end,
                category=request.category,
                annotator=user,
            )
            .first()
        )
        if existing is None:
            raise
        return existing, False
    return annotation, True


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
    if annotation.annotator_id != user.pk and not has_role(user, CURATOR):
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
    return annotation
