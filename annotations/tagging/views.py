"""Tagging endpoints (htmx, with plain-POST fallbacks) and category colours."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from annotations.models import Annotation, AttributeValue, Category
from annotations.review.queue import review_outcome
from annotations.tagging.overlay import reader_context, tag_label
from annotations.tagging.tags import (
    Conflict,
    NotAllowed,
    Tagged,
    TaggingError,
    TagRequest,
    create_tag,
    delete_tag,
    snapshot_state,
    update_tag,
)
from policies.models import Section, Snapshot
from policies.permissions import can_change_tag, permission_required
from policies.reading.reader import rendered_sections


class TagForm(forms.Form):
    snapshot = forms.IntegerField(min_value=1)
    section = forms.IntegerField(min_value=1)
    start = forms.IntegerField(min_value=0)
    end = forms.IntegerField(min_value=1)
    quote = forms.CharField(strip=False, max_length=20000)
    category = forms.ModelChoiceField(Category.objects.all(), to_field_name="slug")
    note = forms.CharField(required=False, max_length=5000)


class TagEditForm(forms.Form):
    version = forms.IntegerField(min_value=1)
    category = forms.ModelChoiceField(Category.objects.all(), to_field_name="slug")
    note = forms.CharField(required=False, max_length=5000)


class VersionForm(forms.Form):
    version = forms.IntegerField(min_value=1)


def _attributes(post, category: Category) -> dict:
    """Attribute values from fields named attr-<attribute slug>, checked against the taxonomy."""
    allowed = {}
    for slug, value in AttributeValue.objects.filter(attribute__categories=category).values_list(
        "attribute__slug", "value"
    ):
        allowed.setdefault(slug, set()).add(value)
    chosen = {}
    for key, value in post.items():
        if key.startswith("attr-") and value:
            slug = key[5:]
            if value not in allowed.get(slug, ()):
                raise TaggingError(f"{slug}: {value!r} is not a value of this attribute")
            chosen[slug] = value
    return chosen


def message_response(request: HttpRequest, text: str, status: int) -> HttpResponse:
    response = render(request, "annotations/message.html", {"message": text}, status=status)
    if request.htmx:
        response["HX-Retarget"] = "#tag-messages"
        response["HX-Reswap"] = "innerHTML"
    return response


def section_response(
    request: HttpRequest,
    snapshot: Snapshot,
    section: Section,
    anchor: str,
    notice: str | None = None,
):
    """The changed section (htmx) or the page at `anchor`; with a `notice` (tagging), the
    page's message area says it, and is emptied of an earlier message when it is ""."""
    if not request.htmx:
        if notice:
            messages.info(request, notice)
        return redirect(f"{snapshot.get_absolute_url()}#{anchor}")
    sections = [s for s in rendered_sections(snapshot.text) if s.pk == section.pk]
    context = reader_context(request.user, snapshot.company, snapshot, sections)
    context |= {"item": context["items"][0], "snapshot": snapshot, "company": snapshot.company}
    if notice is None:
        return render(request, "policies/snapshot_detail.html#policy-section", context)
    context |= {"notice": notice, "oob": True}
    return render(request, "policies/snapshot_detail.html#tagged-section", context)


def tagged_notice(tagged: Tagged) -> str:
    """What the tagger is told when tagging made no new tag: the clause had their tag already
    (say which), or had their proposed copy awaiting review, which the tag confirmed."""
    tag = tagged.tag
    if tagged.created:
        return ""
    if tagged.confirmed:
        return (
            f"Your {tag.category.name} tag had been proposed here from "
            f"{tag.origin.snapshot.captured_at:%Y-%m-%d}; tagging the clause confirmed it. "
            f"{review_outcome(tag, 'confirm')}"
        )
    return f"Already tagged: this clause has your tag {tag_label(tag)}. No second tag was made."


@require_POST
@permission_required("tag")
def tag_create(request: HttpRequest) -> HttpResponse:
    form = TagForm(request.POST)
    if not form.is_valid():
        return message_response(request, f"Not tagged: {form.errors.as_text()}", 400)
    data = form.cleaned_data
    snapshot = get_object_or_404(Snapshot.objects.select_related("company"), pk=data["snapshot"])
    section = get_object_or_404(Section, pk=data["section"], text_id=snapshot.text_id)
    try:
        attributes = _attributes(request.POST, data["category"])
        tagged = create_tag(
            TagRequest(
                snapshot,
                section,
                data["start"],
                data["end"],
                data["quote"],
                data["category"],
                attributes,
                data["note"],
            ),
            request.user,
        )
    except TaggingError as exc:
        return refused_response(request, exc, "Not tagged")
    anchor = f"tag-{tagged.tag.pk}"
    return section_response(request, snapshot, section, anchor, tagged_notice(tagged))


def refused_response(request: HttpRequest, exc: Exception, what: str) -> HttpResponse:
    """The answer to a tagging function's refusal: 409 with the tag's state, 403, or 400."""
    if isinstance(exc, Conflict):
        return _conflict(request, exc)
    if isinstance(exc, NotAllowed):
        return message_response(request, str(exc), 403)
    return message_response(request, f"{what}: {exc}", 400)


def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    current = snapshot_state(exc.current) if exc.current else None
    response = render(request, "annotations/conflict.html", {"current": current}, status=409)
    if request.htmx:
        response["HX-Retarget"] = "#tag-messages"
        response["HX-Reswap"] = "innerHTML"
    return response


@require_GET
@permission_required("tag")
def tag_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One tag with its editor (category, attributes, note) and its copies in other captures."""
    tag = get_object_or_404(
        Annotation.objects.select_related(
            "category", "annotator", "section", "snapshot__company", "origin__snapshot"
        ),
        pk=pk,
    )
    # The editor re-renders with another category's attributes when its category changes.
    categories = list(Category.objects.all())
    chosen = request.GET.get("category", tag.category.slug)
    category = next((c for c in categories if c.slug == chosen), tag.category)
    context = {
        "tag": tag,
        "company": tag.snapshot.company,
        "can_change": can_change_tag(request.user, tag.annotator_id),
        "categories": categories,
        "category": category,
        "attributes": [
            (a, [(v.value, tag.attributes.get(a.slug) == v.value) for v in a.values.all()])
            for a in category.attributes.prefetch_related("values")
        ],
        "copies": tag.descendants.select_related("snapshot").order_by("snapshot__captured_at"),
    }
    template = "annotations/tag_detail.html"
    if request.htmx:
        template += "#tag-editor"
    return render(request, template, context)


@require_POST
@permission_required("tag")
def tag_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_object_or_404(Annotation.objects.select_related("snapshot__company"), pk=pk)
    form = TagEditForm(request.POST)
    if not form.is_valid():
        return message_response(request, f"Not changed: {form.errors.as_text()}", 400)
    data = form.cleaned_data
    try:
        attributes = _attributes(request.POST, data["category"])
        update_tag(
            pk,
            request.user,
            data["version"],
            category=data["category"],
            note=data["note"],
            attributes=attributes,
        )
    except (Conflict, NotAllowed, TaggingError) as exc:
        return refused_response(request, exc, "Not changed")
    return section_response(request, tag.snapshot, tag.section, f"tag-{pk}")


def apply_versioned[T](
    request: HttpRequest, what: str, change: Callable[[int], T]
) -> tuple[T | None, HttpResponse | None]:
    """Run `change(version)` with the tag version the form sent: (its result, None), or (None,
    the response to send) when the form was incomplete or the change was refused."""
    form = VersionForm(request.POST)
    if not form.is_valid():
        return None, message_response(request, f"{what}: the form was incomplete.", 400)
    try:
        return change(form.cleaned_data["version"]), None
    except (Conflict, NotAllowed, TaggingError) as exc:
        return None, refused_response(request, exc, what)


@require_POST
@permission_required("tag")
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_object_or_404(Annotation.objects.select_related("snapshot__company"), pk=pk)
    _, refused = apply_versioned(
        request, "Not removed", lambda version: delete_tag(pk, request.user, version)
    )
    if refused:
        return refused
    return section_response(request, tag.snapshot, tag.section, tag.section.anchor)


@require_GET
@cache_control(max_age=300)
def taxonomy_css(request: HttpRequest) -> HttpResponse:
    """Category colours as a stylesheet (the CSP forbids inline styles)."""
    return render(
        request,
        "annotations/taxonomy.css",
        {"categories": Category.objects.all()},
        content_type="text/css",
    )
