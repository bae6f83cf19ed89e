"""Admin: companies, domains, captures, sections and import runs, searchable and filterable."""

from __future__ import annotations

from django.contrib import admin, messages

from policies.companies import MergeConflict, merge_companies
from policies.models import (
    Company,
    Domain,
    ImportFileResult,
    ImportRun,
    PolicyText,
    Section,
    Snapshot,
)


class ShownOnPagesAdmin(admin.ModelAdmin):
    """Rows that company pages show: whatever is added, changed or deleted here serves every
    stored page anew (admin edits are rare, so working out which companies they touch is not
    worth it; see policies.pagecache)."""

    def log_addition(self, request, obj, message):
        Company.objects.pages_changed()
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        Company.objects.pages_changed()
        return super().log_change(request, obj, message)

    # After deleting (the admin logs deletions before it deletes).
    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        Company.objects.pages_changed()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        Company.objects.pages_changed()


# Stacked, not tabular: Django's tabular inline leaves its inputs without a label (and its
# first column header empty), which the accessibility audit of the walk rightly reports.
class DomainInline(admin.StackedInline):
    model = Domain
    extra = 0


@admin.register(Company)
class CompanyAdmin(ShownOnPagesAdmin):
    list_display = ["name", "slug", "capture_count", "first_capture", "last_capture"]
    readonly_fields = ["capture_count", "first_capture", "last_capture"]
    search_fields = ["name", "slug", "domains__name"]
    inlines = [DomainInline]
    actions = ["merge_selected"]

    @admin.action(description="Merge selected companies into the oldest one")
    def merge_selected(self, request, queryset) -> None:
        companies = list(queryset.order_by("created_at", "pk"))
        if len(companies) < 2:
            self.message_user(request, "Select at least two companies.", messages.WARNING)
            return
        target, others = companies[0], companies[1:]
        try:
            moved = merge_companies(target, others)
        except MergeConflict as exc:
            self.message_user(request, f"Nothing merged: {exc}", messages.ERROR)
            return
        self.message_user(
            request, f"Merged {len(others)} companies into {target.slug} ({moved} captures moved)."
        )


@admin.register(Domain)
class DomainAdmin(ShownOnPagesAdmin):
    list_display = ["name", "company"]
    search_fields = ["name", "company__name"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]


@admin.register(Snapshot)
class SnapshotAdmin(ShownOnPagesAdmin):
    list_display = ["company", "domain", "captured_at", "word_count", "unchanged", "import_run"]
    list_filter = ["unchanged", "captured_at", "import_run"]
    search_fields = ["company__name", "company__slug", "domain__name", "source_url", "page_title"]
    date_hierarchy = "captured_at"
    list_select_related = ["company", "domain", "text", "import_run"]
    raw_id_fields = ["text", "import_run", "company", "domain"]
    readonly_fields = ["created_at"]

    def delete_model(self, request, obj: Snapshot) -> None:
        super().delete_model(request, obj)
        Company.objects.refresh_capture_stats([obj.company_id])
        Snapshot.objects.refresh_unchanged_flags([obj.company_id])

    def delete_queryset(self, request, queryset) -> None:
        company_ids = list(queryset.values_list("company_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        Company.objects.refresh_capture_stats(company_ids)
        Snapshot.objects.refresh_unchanged_flags(company_ids)

    @admin.display(ordering="text__word_count")
    def word_count(self, obj: Snapshot) -> int:
        return obj.text.word_count


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["position", "level", "heading", "anchor"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(PolicyText)
class PolicyTextAdmin(ShownOnPagesAdmin):
    list_display = ["sha256", "word_count", "created_at"]
    search_fields = ["sha256", "normalized_hash"]
    readonly_fields = ["sha256", "normalized_hash", "word_count", "render_version", "created_at"]
    inlines = [SectionInline]


@admin.register(Section)
class SectionAdmin(ShownOnPagesAdmin):
    list_display = ["heading", "level", "position", "text"]
    list_filter = ["level"]
    search_fields = ["heading", "body"]
    raw_id_fields = ["text"]


class ImportFileResultInline(admin.TabularInline):
    model = ImportFileResult
    fields = ["position", "name", "outcome", "reason", "warnings", "snapshot"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "started_at",
        "status",
        "user",
        "files_read",
        "new_count",
        "unchanged_count",
        "present_count",
        "failed_count",
    ]
    list_filter = ["status", "started_at"]
    search_fields = ["source", "results__name"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]
    inlines = [ImportFileResultInline]


@admin.register(ImportFileResult)
class ImportFileResultAdmin(admin.ModelAdmin):
    list_display = ["name", "outcome", "reason", "run"]
    list_filter = ["outcome"]
    search_fields = ["name", "reason"]
    list_select_related = ["run"]
    raw_id_fields = ["run", "snapshot"]
