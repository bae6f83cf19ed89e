"""Tagging endpoints (htmx, with plain-POST fallbacks), the review queue and category colours."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from annotations.models import Annotation, AttributeValue, Category
from annotations.review.queue import pending_reviews, review_items
from annotations.roles import CURATOR, REVIEWER, has_role, role_required
from annotations.tagging.overlay import reader_links, sections_with_tags
from annotations.tagging.tags import (
    Conflict,
    NotAllowed,
    TaggingError,
    TagRequest,
    create_tag,
    delete_tag,
    review_tag,
    snapshot_state,
    update_tag,
)
from policies.models import Company, Section, Snapshot
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


def _message(request: HttpRequest, text: str, status: int) -> HttpResponse:
    response = render(request, "annotations/message.html", {"message": text}, status=status)
    if request.htmx:
        response["HX-Retarget"] = "#tag-messages"
        response["HX-Reswap"] = "innerHTML"
    return response


def _section_response(request: HttpRequest, snapshot: Snapshot, section: Section, anchor: str):
    if not request.htmx:
        return redirect(f"{snapshot.get_absolute_url()}#{anchor}")
    sections = [s for s in rendered_sections(snapshot.text) if s.pk == section.pk]
    context = {
        "item": sections_with_tags(snapshot, sections)[0],
        "snapshot": snapshot,
        "company": snapshot.company,
        "can_tag": True,
        "categories": Category.objects.all(),
        **reader_links(snapshot.company),
    }
    return render(request, "policies/snapshot_detail.html#policy-section", context)


@require_POST
@role_required(REVIEWER, CURATOR)
def tag_create(request: HttpRequest) -> HttpResponse:
    form = TagForm(request.POST)
    if not form.is_valid():
        return _message(request, f"Not tagged: {form.errors.as_text()}", 400)
    data = form.cleaned_data
    snapshot = get_object_or_404(Snapshot.objects.select_related("company"), pk=data["snapshot"])
    section = get_object_or_404(Section, pk=data["section"], text_id=snapshot.text_id)
    try:
        attributes = _attributes(request.POST, data["category"])
        tag, _ = create_tag(
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
        return _refused(request, exc, "Not tagged")
    return _section_response(request, snapshot, section, f"tag-{tag.pk}")


def _refused(request: HttpRequest, exc: Exception, what: str) -> HttpResponse:
    """The answer to a tagging function's refusal: 409 with the tag's state, 403, or 400."""
    if isinstance(exc, Conflict):
        return _conflict(request, exc)
    if isinstance(exc, NotAllowed):
        return _message(request, str(exc), 403)
    return _message(request, f"{what}: {exc}", 400)


def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    current = snapshot_state(exc.current) if exc.current else None
    response = render(request, "annotations/conflict.html", {"current": current}, status=409)
    if request.htmx:
        response["HX-Retarget"] = "#tag-messages"
        response["HX-Reswap"] = "innerHTML"
    return response


@require_GET
@role_required(REVIEWER, CURATOR)
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
        "can_change": tag.annotator_id == request.user.pk or has_role(request.user, CURATOR),
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
@role_required(REVIEWER, CURATOR)
def tag_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_object_or_404(Annotation.objects.select_related("snapshot__company"), pk=pk)
    form = TagEditForm(request.POST)
    if not form.is_valid():
        return _message(request, f"Not changed: {form.errors.as_text()}", 400)
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
        return _refused(request, exc, "Not changed")
    return _section_response(request, tag.snapshot, tag.section, f"tag-{pk}")


@require_POST
@role_required(REVIEWER, CURATOR)
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_object_or_404(Annotation.objects.select_related("snapshot__company"), pk=pk)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _message(request, "Not removed: the form was incomplete.", 400)
    try:
        delete_tag(pk, request.user, form.cleaned_data["version"])
    except (Conflict, NotAllowed) as exc:
        return _refused(request, exc, "Not removed")
    return _section_response(request, tag.snapshot, tag.section, tag.section.anchor)


@require_GET
@role_required(REVIEWER, CURATOR)
def review_list(request: HttpRequest) -> HttpResponse:
    company = request.GET.get("company", "")
    category = request.GET.get("category", "")
    page = Paginator(pending_reviews(company, category), 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "items": review_items(page.object_list),
        "company": company,
        "category": category,
        "companies": Company.objects.filter(
            snapshots__annotations__status=Annotation.Status.PENDING
        ).distinct(),
        "categories": Category.objects.all(),
    }
    return render(request, "annotations/review_list.html", context)


@require_POST
@role_required(REVIEWER, CURATOR)
def review_action(request: HttpRequest, pk: int) -> HttpResponse:
    form = VersionForm(request.POST)
    category = Category.objects.filter(slug=request.POST.get("category", "")).first()
    if not form.is_valid():
        return _message(request, "Not reviewed: the form was incomplete.", 400)
    try:
        review_tag(
            pk, request.user, form.cleaned_data["version"], request.POST.get("action", ""), category
        )
    except (Conflict, TaggingError) as exc:
        return _refused(request, exc, "Not reviewed")
    if request.htmx:
        return HttpResponse("")  # the reviewed item disappears from the queue
    return redirect("review_list")


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
