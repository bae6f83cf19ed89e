"""The practice taxonomy, tags on clauses, their lineage through a history, and an audit log.

A tag (`Annotation`) is anchored to a capture's section by character offsets into the section's
text (`Section.plain`) and carries the exact quote with some context, like the W3C
TextQuoteSelector. A tag made by a reviewer is *original*; the copies that follow it to the
company's other captures are *carried* (clause unchanged) or *proposed* (clause changed, waiting
for review), and point back to it through `origin`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length

from policies.permissions import can_curate


class Category(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    colour = models.CharField(max_length=7, default="#1d4e89", help_text="#rrggbb")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(
        max_length=1, blank=True, default="", help_text="Keyboard shortcut in the picker."
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="category_colour_hex"
            ),
            models.UniqueConstraint(
                fields=["key"], condition=~Q(key=""), name="category_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def chip_colour(self) -> str:
        """Background for the category's chip: its colour, dark enough for white text."""
        from annotations.taxonomy import chip_colour

        return chip_colour(self.colour)


class Attribute(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(default=0)
    categories = models.ManyToManyField(Category, related_name="attributes", blank=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class AttributeValue(models.Model):
    attribute = models.ForeignKey(Attribute, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["attribute", "order"]
        constraints = [
            models.UniqueConstraint(fields=["attribute", "value"], name="attribute_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute.name}: {self.value}"


class Campaign(models.Model):
    """An annotation study: captures, the annotators who tag each of them independently, and
    (after adjudication) a gold layer. Blind by default: an annotator sees only their own tags
    on the campaign's captures until they mark a capture done."""

    class Status(models.TextChoices):
        RUNNING = "running"
        CLOSED = "closed"

    class Rule(models.TextChoices):
        MAJORITY = "majority"
        UNION = "union"
        UNANIMOUS = "unanimous"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    instructions = models.TextField(blank=True, default="", help_text="Shown to annotators.")
    per_capture = models.PositiveSmallIntegerField(default=3)
    blind = models.BooleanField(default=True)
    # Whether annotators see suggestions on the campaign's captures (never in a blind campaign
    # unless turned on: they would show what others tagged, or what a model guesses).
    suggestions = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    rule = models.CharField(
        max_length=10, choices=Rule.choices, default=Rule.MAJORITY, help_text="Gold by default"
    )
    # Empty: the whole taxonomy.
    categories = models.ManyToManyField("Category", blank=True, related_name="campaigns")
    annotators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="campaigns"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "slug"]
        constraints = [
            models.CheckConstraint(condition=Q(per_capture__gte=1), name="campaign_per_capture"),
        ]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """One annotator's work on one capture of a campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    snapshot = models.ForeignKey(
        "policies.Snapshot", on_delete=models.CASCADE, related_name="assignments"
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "snapshot", "annotator"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "snapshot", "annotator"], name="assignment_unique"
            ),
        ]
        indexes = [models.Index(fields=["annotator", "done_at"], name="assignment_todo_idx")]

    def __str__(self) -> str:
        return f"{self.annotator} on {self.snapshot} ({self.campaign.slug})"


# Statuses of tags the reader does not show (a merged copy is shown through the tag it met).
HIDDEN_STATUSES = ("dismissed", "merged")


def public_tags(prefix: str = "") -> Q:
    """Tags anyone may see (of a relation through `prefix`, e.g. "tag__"): all but the annotator
    layers of running campaigns."""
    running = Campaign.objects.filter(status=Campaign.Status.RUNNING).values("pk")
    return ~Q(**{f"{prefix}campaign_id__in": running, f"{prefix}layer": Annotation.Layer.ANNOTATOR})


# What the reader shows of a tag, its annotator and its origin (for_reader).
_READER_FIELDS = (
    "snapshot_id", "section_id", "start", "end", "quote", "kind", "status", "note", "version",
    "similarity", "origin_quote", "category", "annotator__username", "origin__quote",
    "origin__snapshot__captured_at", "origin__snapshot__company_id",
)  # fmt: skip


class AnnotationQuerySet(models.QuerySet):
    def shown(self) -> AnnotationQuerySet:
        """Tags a reader sees: not dismissed, and not a copy merged into the same tag."""
        return self.exclude(status__in=HIDDEN_STATUSES)

    def for_reader(self) -> AnnotationQuerySet:
        """Shown tags with what the reader's highlights and list show of them, for one
        capture: in the order of their spans (the reader groups them by section), so the
        query joins no capture, company or section for the default ordering."""
        return (
            self.shown()
            .select_related("category", "annotator", "origin__snapshot")
            .only(*_READER_FIELDS)
            .order_by("start", "pk")
        )

    def visible_to(self, user) -> AnnotationQuerySet:
        """Tags `user` may see. While a campaign runs, its annotators' tags are for curators
        only, except each annotator's own, their team's in an open campaign, and everyone's on
        a capture the annotator has marked done.

        Written with uncorrelated subqueries (each computed once per query, not once per tag):
        a capture page with 500 tags pays about a millisecond for it.
        """
        if can_curate(user):
            return self
        if not getattr(user, "is_authenticated", False):
            return self.filter(public_tags())
        team = Campaign.objects.filter(
            status=Campaign.Status.RUNNING, annotators=user, blind=False
        ).values("pk")
        done = Assignment.objects.filter(annotator=user, done_at__isnull=False)
        finished = Q(campaign_id__in=done.values("campaign_id")) & Q(
            snapshot_id__in=done.values("snapshot_id")
        )
        return self.filter(public_tags() | Q(annotator=user) | Q(campaign_id__in=team) | finished)

    def pending_review(self) -> AnnotationQuerySet:
        """Proposed copies waiting for a reviewer to confirm or dismiss them."""
        return self.filter(status=Annotation.Status.PENDING)


class Annotation(models.Model):
    class Kind(models.TextChoices):
        ORIGINAL = "original"
        CARRIED = "carried"
        PROPOSED = "proposed"

    class Layer(models.TextChoices):
        ANNOTATOR = "annotator"
        GOLD = "gold"

    class Status(models.TextChoices):
        ACTIVE = "active"
        PENDING = "pending", "pending review"
        DISMISSED = "dismissed"
        # A copy that met the same tag (category and annotator) on the same span: kept so the
        # clause's history stays whole, shown once through the other tag.
        MERGED = "merged", "merged into the same tag"

    snapshot = models.ForeignKey(
        "policies.Snapshot", on_delete=models.CASCADE, related_name="annotations"
    )
    section = models.ForeignKey(
        "policies.Section", on_delete=models.CASCADE, related_name="annotations"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    prefix = models.CharField(max_length=64, blank=True, default="")
    suffix = models.CharField(max_length=64, blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="annotations")
    attributes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, default="")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ORIGINAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    origin = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="descendants"
    )
    # For proposed tags: the wording the origin had, shown beside the new wording in review.
    origin_quote = models.TextField(blank=True, default="")
    # The study a tag was made in (None: everyday tagging), and its layer: an annotator's own
    # tag, or the campaign's adjudicated gold.
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="annotations"
    )
    layer = models.CharField(max_length=10, choices=Layer.choices, default=Layer.ANNOTATOR)
    # For carried and proposed tags: how similar the clause is to the origin's (words, 0-100).
    similarity = models.FloatField(null=True, blank=True)
    # A tag made by accepting a suggestion: where the suggestion came from (source, score, the
    # tag whose wording it copied or the model version); exports carry it in `origin`.
    suggestion = models.JSONField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Identity across databases: exports carry it (urn:uuid:...) and import_annotations keeps it,
    # so a tag and the copies that point to it survive a round trip under the same ids.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["snapshot", "section__position", "start", "pk"]
        indexes = [
            models.Index(fields=["status", "kind"], name="annotation_status_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="annotation_start_lt_end"),
            models.CheckConstraint(
                condition=Q(end=F("start") + Length("quote")), name="annotation_quote_length"
            ),
            models.CheckConstraint(
                condition=Q(kind="original", origin__isnull=True)
                | (~Q(kind="original") & Q(origin__isnull=False)),
                name="annotation_origin_matches_kind",
            ),
            # Two people may tag one span with one category; one person only once.
            models.UniqueConstraint(
                fields=["snapshot", "section", "start", "end", "category", "annotator", "layer"],
                condition=~Q(status__in=HIDDEN_STATUSES),
                name="annotation_one_per_span_category_annotator",
            ),
            models.UniqueConstraint(
                fields=["snapshot", "origin"],
                condition=Q(origin__isnull=False),
                name="annotation_one_copy_per_capture",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} on {self.quote[:40]!r}"


class GoldDecision(models.Model):
    """A curator's (or a consolidation rule's) decision on one category in one unit (a section
    of a capture) of a campaign: accepted into gold or rejected. Kept with who and when."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="decisions")
    snapshot = models.ForeignKey("policies.Snapshot", on_delete=models.CASCADE, related_name="+")
    section = models.ForeignKey("policies.Section", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    accepted = models.BooleanField()
    rule = models.CharField(
        max_length=10, blank=True, default="", help_text="Set when a rule decided, not a person."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "snapshot", "section", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "snapshot", "section", "category"], name="gold_decision_unique"
            ),
        ]

    def __str__(self) -> str:
        verdict = "accepted" if self.accepted else "rejected"
        return f"{self.category} {verdict} in {self.campaign.slug}"


class LineageEvent(models.Model):
    """A moment in a tagged clause's history: it changed, disappeared or appeared."""

    class Kind(models.TextChoices):
        CHANGED = "changed"
        REMOVED = "removed"
        APPEARED = "appeared"

    origin = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="events")
    company = models.ForeignKey(
        "policies.Company", on_delete=models.CASCADE, related_name="lineage_events"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    before = models.ForeignKey("policies.Snapshot", on_delete=models.CASCADE, related_name="+")
    after = models.ForeignKey("policies.Snapshot", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["after__captured_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin", "before", "after"], name="lineage_event_unique"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.origin.category} clause {self.kind} between "
            f"{self.before.captured_at:%Y-%m-%d} and {self.after.captured_at:%Y-%m-%d}"
        )


class AnnotationEvent(models.Model):
    """Audit log: every create, change and delete of a tag, with the state before and after."""

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        REVIEW = "review"

    annotation_pk = models.BigIntegerField(db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} tag #{self.annotation_pk}"


class IndexedText(models.Model):
    """A policy text whose clauses are in the wording index (`ClauseWording`), and the index
    version it was built with (a new version re-indexes)."""

    text = models.OneToOneField(
        "policies.PolicyText", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.PositiveSmallIntegerField()
    indexed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"text {self.text_id} indexed (v{self.version})"


class ClauseWording(models.Model):
    """The wording index: one clause of one section, by the hash of its normalised text, so
    every policy sharing a sentence is one indexed lookup away (template policies, boilerplate,
    and the same-wording suggestions)."""

    section = models.ForeignKey("policies.Section", on_delete=models.CASCADE, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    wording = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["wording", "section"], name="clause_wording_idx"),
            models.Index(fields=["section", "start"], name="clause_wording_section_idx"),
        ]

    def __str__(self) -> str:
        return f"clause {self.start}-{self.end} of section {self.section_id}"


class TaggedWording(models.Model):
    """A tag's clause as suggestions see it: the wording it was made on (None when the tag
    covers no whole clause of at least a few words), its text and the MinHash bands that find
    near-identical clauses. One row per tag; kept up to date from the tags' ids."""

    tag = models.OneToOneField(Annotation, on_delete=models.CASCADE, related_name="+")
    wording = models.BigIntegerField(null=True, db_index=True)
    text = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"wording of tag {self.tag_id}"


class TaggedBand(models.Model):
    """One MinHash LSH band of a tagged clause: clauses sharing a band are near-duplicate
    candidates, checked by their exact similarity."""

    tagged = models.ForeignKey(TaggedWording, on_delete=models.CASCADE, related_name="bands")
    band = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"band {self.band}"


class SuggestionRejection(models.Model):
    """A reviewer's "no" to a suggested category on a clause: the suggestion is not shown
    again on that clause, and the category model trains on it as a negative example."""

    section = models.ForeignKey("policies.Section", on_delete=models.CASCADE, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10)
    score = models.FloatField()
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["section", "start", "end", "category"], name="suggestion_rejected_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} rejected on {self.quote[:40]!r}"


class SuggesterModelQuerySet(models.QuerySet):
    def ready(self) -> SuggesterModelQuerySet:
        return self.filter(status=SuggesterModel.Status.READY)

    def for_history(self) -> SuggesterModelQuerySet:
        """Every version, newest first, without the fitted model's bytes."""
        return self.defer("fitted").select_related("requested_by").order_by("-version")


class SuggesterModel(models.Model):
    """One version of the category model (annotations.suggesting.model): what it was trained
    on, how long it took, how well it did on held-out data, and the fitted model itself.
    The latest ready version serves; a newer one serves only once it is ready."""

    class Status(models.TextChoices):
        TRAINING = "training"
        READY = "ready"
        FAILED = "failed"

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    # The labels asked for ("auto": gold where a campaign has it, else active tags; "gold";
    # "active") and how many captures each kind supplied.
    labels = models.CharField(max_length=10, default="auto")
    gold_captures = models.PositiveIntegerField(default=0)
    active_captures = models.PositiveIntegerField(default=0)
    tags = models.PositiveIntegerField(default=0)
    clauses = models.PositiveIntegerField(default=0)
    sections = models.PositiveIntegerField(default=0)
    negatives = models.PositiveIntegerField(default=0)
    # {slug: {"sections": n, "clauses": n}}
    positives = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # {"clause": {"categories": {slug: {precision, recall, f1, support}}, "macro_f1": x,
    #  "thresholds": {slug: t}}, "section": {...}}
    evaluation = models.JSONField(default=dict, blank=True)
    # The pickled Predictor, written only by annotations.suggesting.model.train.
    fitted = models.BinaryField(null=True, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)

    objects = SuggesterModelQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        indexes = [models.Index(fields=["status", "version"], name="suggester_status_version_idx")]

    def __str__(self) -> str:
        return f"suggester v{self.version} ({self.status})"
