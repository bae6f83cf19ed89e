"""Companies, their domains, dated captures of their policies, and the sections of each text.

A capture (`Snapshot`) points at a `PolicyText`, stored once per distinct body (by SHA-256 of the
exact bytes), so identical captures of one company, or the same policy served under two domains,
share one stored text and one set of `Section` rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone

from policies.trends.seasons import season_of


class CompanyQuerySet(models.QuerySet):
    def refresh_capture_stats(self, company_ids) -> int:
        """Recount the companies' captures and first/last capture times (after imports, merges
        and deletions); the list page sorts 100,000 companies on these columns. Their policies
        per half-year (`SeasonPolicy`, read by the trends) follow."""
        SeasonPolicy.objects.refresh_for(company_ids)
        captures = Snapshot.objects.filter(company=OuterRef("pk")).order_by()
        counted = self.filter(pk__in=company_ids).update(
            capture_count=Coalesce(
                Subquery(captures.values("company").annotate(n=Count("pk")).values("n")), 0
            ),
            first_capture=Subquery(captures.order_by("captured_at").values("captured_at")[:1]),
            last_capture=Subquery(captures.order_by("-captured_at").values("captured_at")[:1]),
        )
        self.pages_changed(company_ids)  # their pages list the captures
        return counted

    def pages_changed(self, company_ids=None) -> int:
        """What the companies' pages show has changed (a tag, a review, a capture, a text
        refresh): bump their `page_version`, which keys their stored pages (policies.pagecache),
        and drop those pages. The one place that does so. `company_ids` may be a subquery;
        None: every company. Call it inside the transaction that makes the change (or after it
        commits), never before: a page rendered meanwhile would be stored under the new key."""
        from policies.pagecache import announce_pages_changed  # pagecache imports models

        companies = self.all() if company_ids is None else self.filter(pk__in=company_ids)
        bumped = companies.update(page_version=F("page_version") + 1)
        if bumped:
            StoredPage.objects.filter(company__in=companies.values("pk")).delete()
            announce_pages_changed()
        return bumped


class Company(models.Model):
    name = models.CharField(max_length=255)
    # The first domain exactly as written (dots allowed), so URLs read /companies/livejournal.com/.
    slug = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept by CompanyQuerySet.refresh_capture_stats, so the company list sorts without
    # aggregating a million captures on every request.
    capture_count = models.PositiveIntegerField(default=0)
    first_capture = models.DateTimeField(null=True, blank=True)
    last_capture = models.DateTimeField(null=True, blank=True)
    # Bumped by `pagecache.pages_changed` (and nowhere else) whenever anything the company's
    # pages show changes: its stored pages are keyed by it.
    page_version = models.PositiveBigIntegerField(default=0, db_default=0)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["capture_count", "name"], name="company_capture_count_idx"),
            models.Index(fields=["last_capture", "name"], name="company_last_capture_idx"),
            models.Index(fields=["first_capture", "name"], name="company_first_capture_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="company_slug_not_empty"),
            models.CheckConstraint(
                condition=~Q(slug__contains="/"), name="company_slug_has_no_slash"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("company_detail", args=[self.slug])


class Domain(models.Model):
    name = models.CharField(max_length=255, unique=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="domains")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(name=Lower("name")), name="domain_name_lowercase"),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyText(models.Model):
    """One distinct policy body, shared by every capture whose body is byte-for-byte the same."""

    sha256 = models.CharField(max_length=64, unique=True)
    # Hash of the wording a reader sees (text.wording_hash): equal hashes mean "unchanged".
    normalized_hash = models.CharField(max_length=64, db_index=True)
    body = models.TextField()
    word_count = models.PositiveIntegerField()
    # The body's first "#" heading (the archived page's <title>), copied to each capture.
    page_title = models.TextField(blank=True, default="")
    # Version of the renderer that produced Section.html; 0 means not rendered yet.
    render_version = models.PositiveSmallIntegerField(default=0)
    # Version of the derivation (policies.reading.text) that produced Section.plain, word_count
    # and normalized_hash; refresh_texts brings older texts up to date.
    text_version = models.PositiveSmallIntegerField(default=0, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="policytext_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"text {self.sha256[:12]} ({self.word_count} words)"


class Section(models.Model):
    text = models.ForeignKey(PolicyText, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField()
    heading = models.TextField()
    level = models.PositiveSmallIntegerField()
    # The exact Markdown slice, heading line included: the sections joined give the body back.
    body = models.TextField()
    anchor = models.CharField(max_length=255)
    # The text a reader sees (policies.reading.text.section_text), derived at import: tag
    # offsets point into it, and diffs, lineage, snippets and word counts read it.
    plain = models.TextField(blank=True, default="")
    # Rendered when first read (reader.rendered_sections): sanitised HTML with every clause
    # marked; its text equals `plain`.
    html = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["text", "position"]
        constraints = [
            models.UniqueConstraint(fields=["text", "position"], name="section_position_unique"),
            models.UniqueConstraint(fields=["text", "anchor"], name="section_anchor_unique"),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=6), name="section_level_1_to_6"
            ),
            models.CheckConstraint(condition=~Q(anchor=""), name="section_anchor_not_empty"),
        ]

    def __str__(self) -> str:
        return self.heading


class StoredPage(models.Model):
    """A company's page as it was rendered for one audience (policies.pagecache), served again
    until something it shows changes; `pages_changed` deletes the company's pages."""

    # sha256 of what the page depends on: the URL, the company's page_version, the audience.
    key = models.CharField(max_length=64, primary_key=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    stored_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"stored page {self.key[:12]}"


class SiteVersion(models.Model):
    """One row (id 1): bumped after every commit that changed any company's pages, or what
    pages drawing on every company show (`policies.pagecache.site_changed`). A tagger's
    stored pages offer suggestions drawn from every company's tags, so they are keyed by it."""

    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"site version {self.version}"


class ImportRunQuerySet(models.QuerySet):
    def for_list(self) -> ImportRunQuerySet:
        """Runs newest first, with who started each."""
        return self.select_related("user").order_by("-started_at", "-pk")

    def for_page(self) -> ImportRunQuerySet:
        """Runs as a detail page shows them: with their user and the newest run that retried
        each (`retried_as`)."""
        retries = ImportRun.objects.filter(retry_of=OuterRef("pk")).order_by("-pk").values("pk")
        return self.select_related("user").annotate(retried_as=Subquery(retries[:1]))


class ImportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"  # uploaded from the browser, waiting for a worker
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        COMPLETED_WITH_ERRORS = "errors", "completed with errors"
        FAILED = "failed"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    source = models.TextField(help_text="What was imported: paths, or the uploaded file names.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    files_read = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    present_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    # Heartbeat, refreshed at every batch: a run "running" whose heartbeat stopped has lost its
    # worker (see uploads.mark_stale_runs).
    updated_at = models.DateTimeField(default=timezone.now)
    total_files = models.PositiveIntegerField(
        null=True, blank=True, help_text="Files to import, once counted (uploads only)."
    )
    upload_dir = models.CharField(
        max_length=200, blank=True, default="", help_text="Uploaded files, under MEDIA_ROOT."
    )
    domain_override = models.CharField(max_length=253, blank=True, default="")
    captured_at_override = models.DateTimeField(null=True, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"import #{self.pk} ({self.get_status_display()})"


class ImportFileResult(models.Model):
    class Outcome(models.TextChoices):
        NEW = "new"
        UNCHANGED = "unchanged"
        PRESENT = "present", "already present"
        FAILED = "failed"

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    name = models.TextField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.TextField(blank=True, default="")
    warnings = models.TextField(blank=True, default="")
    snapshot = models.ForeignKey(
        "Snapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "position"], name="importresult_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["new", "unchanged", "present", "failed"]),
                name="importresult_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.get_outcome_display()}"


class SnapshotQuerySet(models.QuerySet):
    def for_timeline(self) -> SnapshotQuerySet:
        """Captures in date order with the text facts a history page shows."""
        return self.select_related("domain", "text").defer("text__body").order_by("captured_at")

    def at_capture(self, token: str) -> SnapshotQuerySet:
        """Captures addressed by a URL token: a 14-digit timestamp, or a date (YYYY-MM-DD) that
        may match several captures of one day. Impossible dates match nothing."""
        try:
            if len(token) == 14:
                when = datetime.strptime(token, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
                return self.filter(captured_at=when)
            day = datetime.strptime(token, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            return self.none()
        return self.filter(captured_at__gte=day, captured_at__lt=day + timedelta(days=1))

    def with_previous(self) -> SnapshotQuerySet:
        """Captures annotated with their company's previous capture: `previous_id`,
        `previous_text_id` and `previous_captured_at` (None for a first capture). Correlated
        lookups on the (company, time) index, so they stay right for any slice of a history."""
        earlier = Snapshot.objects.filter(
            company_id=OuterRef("company_id"), captured_at__lt=OuterRef("captured_at")
        ).order_by("-captured_at")
        return self.annotate(
            previous_id=Subquery(earlier.values("pk")[:1]),
            previous_text_id=Subquery(earlier.values("text_id")[:1]),
            previous_captured_at=Subquery(earlier.values("captured_at")[:1]),
        )

    def in_force_at(self, moment: datetime) -> Snapshot | None:
        """The capture in force just before `moment`: the latest captured before it."""
        return self.filter(captured_at__lt=moment).order_by("captured_at").last()

    def refresh_unchanged_flags(self, company_ids: list[int]) -> int:
        """Recompute `unchanged` for the companies' captures (needed after out-of-order imports
        and merges); returns how many rows changed.

        One UPDATE from a window over the companies' captures: nothing travels to Python, which
        an import of thousands of captures would otherwise pay for on every batch."""
        if not company_ids:
            return 0
        snapshot, text = self.model._meta.db_table, PolicyText._meta.db_table
        ids = ", ".join(["%s"] * len(company_ids))
        statement = f"""
            UPDATE {snapshot} SET unchanged = w.same
            FROM (
                SELECT s.id, COALESCE(t.normalized_hash = LAG(t.normalized_hash) OVER (
                    PARTITION BY s.company_id ORDER BY s.captured_at), FALSE) AS same
                FROM {snapshot} s JOIN {text} t ON t.id = s.text_id
                WHERE s.company_id IN ({ids})
            ) w
            WHERE {snapshot}.id = w.id AND {snapshot}.unchanged <> w.same
        """  # nosec B608: table names from the models, values as parameters
        with connections[router.db_for_write(self.model)].cursor() as cursor:
            cursor.execute(statement, list(company_ids))
            return cursor.rowcount


class Snapshot(models.Model):
    """One archived capture of a company's policy."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="snapshots")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="snapshots")
    captured_at = models.DateTimeField(help_text="Wayback Machine capture time (UTC).")
    archive_url = models.URLField(max_length=2000)
    source_url = models.TextField(help_text="The archived page's original URL, percent-decoded.")
    page_title = models.TextField(blank=True, default="")
    text = models.ForeignKey(PolicyText, on_delete=models.PROTECT, related_name="snapshots")
    # True when the wording equals the company's previous capture's (text.wording_hash): the
    # one meaning of "unchanged" on every page.
    unchanged = models.BooleanField(default=False)
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["company", "captured_at"]
        get_latest_by = "captured_at"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "captured_at"], name="snapshot_one_per_company_and_time"
            ),
        ]
        indexes = [models.Index(fields=["captured_at"], name="snapshot_captured_at_idx")]

    def __str__(self) -> str:
        return f"{self.company.slug} {self.captured_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("snapshot_detail", args=[self.company.slug, self.timestamp])

    @property
    def body(self) -> str:
        return self.text.body

    @property
    def body_hash(self) -> str:
        return self.text.normalized_hash

    @property
    def word_count(self) -> int:
        return self.text.word_count

    @property
    def sections(self) -> models.QuerySet[Section]:
        """The capture's sections in order (shared with identical captures)."""
        return self.text.sections.order_by("position")

    @property
    def timestamp(self) -> str:
        """The 14-digit Wayback timestamp, which addresses a capture uniquely within a company."""
        return self.captured_at.strftime("%Y%m%d%H%M%S")


class TextComparison(models.Model):
    """A cached comparison of two texts: computed once per ordered pair, reused by every page."""

    old_text = models.ForeignKey(PolicyText, on_delete=models.CASCADE, related_name="+")
    new_text = models.ForeignKey(PolicyText, on_delete=models.CASCADE, related_name="+")
    engine_version = models.PositiveSmallIntegerField()
    words_added = models.PositiveIntegerField()
    words_removed = models.PositiveIntegerField()
    result = models.JSONField(help_text="The serialised diffing.SectionDiff.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["old_text", "new_text"], name="comparison_pair_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.old_text_id} → {self.new_text_id}"


class SeasonPolicyQuerySet(models.QuerySet):
    def refresh_for(self, company_ids) -> int:
        """Rebuild the companies' policies per half-year from their captures (after imports,
        merges and deletions) and mark the corpus summaries stale; returns the rows written."""
        company_ids = list(company_ids)
        rows = (
            Snapshot.objects.filter(company_id__in=company_ids)
            .order_by("company_id", "captured_at")
            .values_list("pk", "company_id", "captured_at", "text_id", "text__word_count")
        )
        latest: dict[tuple[str, int], SeasonPolicy] = {}
        for pk, company_id, captured_at, text_id, words in rows.iterator(chunk_size=5000):
            key = (season_of(captured_at), company_id)
            before = latest.get(key)
            latest[key] = SeasonPolicy(
                season=key[0],
                company_id=company_id,
                snapshot_id=pk,
                text_id=text_id,
                word_count=words,
                captures=(before.captures + 1) if before else 1,
            )
        with transaction.atomic():
            self.filter(company_id__in=company_ids).delete()
            self.bulk_create(latest.values(), batch_size=1000)
            TrendText.objects.add({policy.text_id for policy in latest.values()})
            # Rebuilt from SeasonPolicy when the trends are next read (trends.season_summaries).
            SeasonSummary.objects.all().delete()
        return len(latest)


class SeasonPolicy(models.Model):
    """A company's policy in a half-year (policies.trends.seasons): its latest capture in it,
    with that capture's word count and how many captures the company had in the half-year.
    Kept by `CompanyQuerySet.refresh_capture_stats`; the trends read these, not the captures."""

    season = models.CharField(max_length=6)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="season_policies")
    text = models.ForeignKey(PolicyText, on_delete=models.CASCADE, related_name="+")
    word_count = models.PositiveIntegerField()
    captures = models.PositiveIntegerField()

    objects = SeasonPolicyQuerySet.as_manager()

    class Meta:
        ordering = ["season", "company"]
        constraints = [
            models.UniqueConstraint(fields=["season", "company"], name="season_policy_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} in {self.season}"


class SeasonSummary(models.Model):
    """The whole corpus in a half-year: captures, companies (= policies) and the quartiles of
    the policies' word counts. Precomputed (they do not depend on a query); emptied whenever
    `SeasonPolicy` changes and rebuilt on the next read."""

    season = models.CharField(max_length=6, unique=True)
    captures = models.PositiveIntegerField()
    companies = models.PositiveIntegerField()
    words_q1 = models.FloatField()
    words_median = models.FloatField()
    words_q3 = models.FloatField()

    class Meta:
        ordering = ["season"]
        verbose_name_plural = "season summaries"

    def __str__(self) -> str:
        return self.season


_TREND_TEXTS_SQL = """
INSERT INTO policies_trendtext (text_id, search_vector)
SELECT t.id, to_tsvector('english', left(t.body, 1000000)) FROM policies_policytext t
WHERE t.id = ANY(%s) AND t.id NOT IN (SELECT text_id FROM policies_trendtext)
ON CONFLICT (text_id) DO NOTHING
"""


class TrendTextQuerySet(models.QuerySet):
    def add(self, text_ids) -> None:
        """Index these texts of half-year policies as wholes (on SQLite only listed: its
        substring search reads the sections). A text never changes: one already there stays."""
        from django.db import connection

        if not text_ids:
            return
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_TREND_TEXTS_SQL, [sorted(text_ids)])
            return
        rows = [TrendText(text_id=pk) for pk in sorted(text_ids)]
        self.bulk_create(rows, batch_size=500, ignore_conflicts=True)


class TrendText(models.Model):
    """A text that is some company's policy in some half-year, with a stored tsvector of its
    whole body (migration 0010; PostgreSQL only, not a model field, like Section's): the
    trends ask "which policies match a query" of 30,000 whole texts instead of 300,000
    sections, which is what keeps a query trend under a second at 100,000 captures."""

    text = models.OneToOneField(PolicyText, on_delete=models.CASCADE, primary_key=True)

    objects = TrendTextQuerySet.as_manager()

    def __str__(self) -> str:
        return f"trend text {self.text_id}"
