"""Admin: the taxonomy is edited here; tags, lineage and the audit log are browsable."""

from __future__ import annotations

from django.contrib import admin

from annotations.models import (
    Annotation,
    AnnotationEvent,
    Attribute,
    AttributeValue,
    Category,
    LineageEvent,
)
from annotations.suggesting import index
from policies.admin import ShownOnPagesAdmin


@admin.register(Category)
class CategoryAdmin(ShownOnPagesAdmin):
    list_display = ["name", "slug", "key", "colour", "order", "parent"]
    list_editable = ["key", "colour", "order"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}


class AttributeValueInline(admin.StackedInline):  # labelled inputs (see policies.admin)
    model = AttributeValue
    extra = 1


@admin.register(Attribute)
class AttributeAdmin(ShownOnPagesAdmin):
    list_display = ["name", "slug", "order"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["categories"]
    inlines = [AttributeValueInline]


@admin.register(Annotation)
class AnnotationAdmin(ShownOnPagesAdmin):
    list_display = ["pk", "category", "kind", "status", "snapshot", "annotator", "updated_at"]
    list_filter = ["kind", "status", "category"]
    search_fields = ["quote", "note", "snapshot__company__slug", "annotator__username"]
    list_select_related = ["category", "snapshot__company", "annotator"]
    raw_id_fields = ["snapshot", "section", "origin", "annotator"]
    readonly_fields = ["created_at", "updated_at", "version"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # Suggested elsewhere as its clause now stands (a tag made or re-spanned here).
        index.index_new_tags()
        if change and obj.kind != Annotation.Kind.CARRIED:
            index.index_tags([obj])


@admin.register(LineageEvent)
class LineageEventAdmin(admin.ModelAdmin):
    list_display = ["origin", "kind", "company", "before", "after"]
    list_filter = ["kind"]
    list_select_related = ["origin__category", "company", "before__company", "after__company"]
    raw_id_fields = ["origin", "company", "before", "after"]


@admin.register(AnnotationEvent)
class AnnotationEventAdmin(admin.ModelAdmin):
    """The audit log: read-only, newest first."""

    list_display = ["at", "action", "annotation_pk", "user"]
    list_filter = ["action", "at"]
    search_fields = ["annotation_pk", "user__username"]
    readonly_fields = ["annotation_pk", "action", "user", "at", "before", "after"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
