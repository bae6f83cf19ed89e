"""Campaigns: which captures, which annotators, who does what, and how far they are.

The command (`create_campaign`), the campaign form and the tests all create campaigns through
`create_campaign`; annotators' progress is read through `progress` and `next_capture`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, Q
from django.utils import timezone

from annotations.models import Annotation, Assignment, Campaign, Category
from policies.models import Company, Snapshot


class CampaignError(ValueError):
    """A campaign that cannot be made as asked; the message says which field and why."""


@dataclass
class CampaignSpec:
    """What a campaign is made of, as the form and the command read it."""

    slug: str
    name: str = ""
    annotators: list[str] = field(default_factory=list)  # usernames
    companies: list[str] = field(default_factory=list)  # company slugs
    captured_from: datetime | None = None  # inclusive
    captured_before: datetime | None = None  # exclusive
    snapshot_ids: list[int] = field(default_factory=list)  # listed captures, besides companies
    per_capture: int = 3
    blind: bool = True
    suggestions: bool = False  # annotators see suggestions (never by default when blind)
    categories: list[str] = field(default_factory=list)  # slugs; empty: the whole taxonomy
    description: str = ""
    instructions: str = ""
    rule: str = Campaign.Rule.MAJORITY
    status: str = Campaign.Status.RUNNING


def plan_assignments(
    snapshot_ids: list[int],
    annotator_ids: list[int],
    per_capture: int,
    kept: list[tuple[int, int]] = (),
) -> list[tuple[int, int]]:
    """(capture, annotator) pairs: each capture gets `per_capture` different annotators, spread
    evenly (the least loaded first, ties in the order given), so loads differ by at most one.
    `kept` pairs are already in place (work a re-plan keeps): they count towards their
    capture's annotators and their annotator's load, and are not returned again."""
    if per_capture > len(annotator_ids):
        raise CampaignError(
            f"per capture: {per_capture} annotators per capture, but only "
            f"{len(annotator_ids)} annotator(s) were named"
        )
    load: Counter[int] = Counter(dict.fromkeys(annotator_ids, 0))
    on_capture: dict[int, set[int]] = defaultdict(set)
    for snapshot_id, annotator in kept:
        load[annotator] += annotator in load
        on_capture[snapshot_id].add(annotator)
    order = {annotator: n for n, annotator in enumerate(annotator_ids)}
    pairs = []
    for snapshot_id in snapshot_ids:
        already = on_capture[snapshot_id]
        free = [a for a in annotator_ids if a not in already]
        wanted = max(0, per_capture - len(already))
        for annotator in sorted(free, key=lambda a: (load[a], order[a]))[:wanted]:
            load[annotator] += 1
            pairs.append((snapshot_id, annotator))
    return pairs


def _captures(spec: CampaignSpec) -> list[int]:
    selected = Q(pk__in=spec.snapshot_ids) if spec.snapshot_ids else Q(pk__in=[])
    if spec.companies:
        by_company = Q(company__slug__in=spec.companies)
        if spec.captured_from:
            by_company &= Q(captured_at__gte=spec.captured_from)
        if spec.captured_before:
            by_company &= Q(captured_at__lt=spec.captured_before)
        selected |= by_company
    return list(
        Snapshot.objects.filter(selected)
        .order_by("company__slug", "captured_at")
        .values_list("pk", flat=True)
    )


def _check(spec: CampaignSpec) -> tuple[list, list[Category]]:
    users = list(get_user_model().objects.filter(username__in=spec.annotators))
    unknown = sorted(set(spec.annotators) - {u.username for u in users})
    if unknown:
        raise CampaignError(f"annotators: no such user: {', '.join(unknown)}")
    if not users:
        raise CampaignError("annotators: name at least one annotator")
    categories = list(Category.objects.filter(slug__in=spec.categories))
    missing = sorted(set(spec.categories) - {c.slug for c in categories})
    if missing:
        raise CampaignError(f"categories: no such category: {', '.join(missing)}")
    known = set(
        Snapshot.objects.filter(company__slug__in=spec.companies).values_list(
            "company__slug", flat=True
        )
    )
    if set(spec.companies) - known:
        raise CampaignError(
            f"companies: no captures of {', '.join(sorted(set(spec.companies) - known))}"
        )
    return users, categories


def create_campaign(spec: CampaignSpec, created_by=None) -> Campaign:
    """Make the campaign and give each of its captures `per_capture` annotators, evenly."""
    users, categories = _check(spec)
    if Campaign.objects.filter(slug=spec.slug).exists():
        raise CampaignError(f"slug: a campaign {spec.slug!r} already exists")
    snapshot_ids = _captures(spec)
    if not snapshot_ids:
        raise CampaignError("captures: the companies and dates chosen select no capture")
    by_name = {u.username: u.pk for u in users}
    plan = plan_assignments(snapshot_ids, [by_name[n] for n in spec.annotators], spec.per_capture)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            slug=spec.slug,
            name=spec.name or spec.slug,
            description=spec.description,
            instructions=spec.instructions,
            per_capture=spec.per_capture,
            blind=spec.blind,
            suggestions=spec.suggestions,
            rule=spec.rule,
            status=spec.status,
            created_by=created_by,
        )
        campaign.annotators.set(users)
        campaign.categories.set(categories)
        Assignment.objects.bulk_create(
            Assignment(campaign=campaign, snapshot_id=s, annotator_id=a) for s, a in plan
        )
        # Annotators' capture pages now show the campaign (and hide others' tags from them).
        Company.objects.pages_changed(
            Snapshot.objects.filter(pk__in=snapshot_ids).values("company_id")
        )
    return campaign


@dataclass(frozen=True)
class Replan:
    """What an edit did to the assignments."""

    added: int
    removed: int


def edit_campaign(campaign: Campaign, spec: CampaignSpec) -> Replan:
    """Change a campaign as `spec` says (its slug stays). Its captures become `spec`'s listed
    captures plus those its companies and dates select, and their assignments are planned again
    for the annotators and the number per capture. No work is lost: finished assignments stay
    (even an annotator's who is no longer named), and so do unfinished ones the annotator has
    begun tagging, while the capture has room; untouched ones are shared out again evenly. A
    capture someone has finished cannot be taken out."""
    users, categories = _check(spec)
    snapshot_ids = _captures(spec)
    if not snapshot_ids:
        raise CampaignError("captures: keep or add at least one capture")
    by_name = {u.username: u.pk for u in users}
    annotator_ids = [by_name[n] for n in spec.annotators]
    kept, free = _kept_assignments(campaign, set(snapshot_ids), set(annotator_ids), spec)
    plan = plan_assignments(snapshot_ids, annotator_ids, spec.per_capture, kept)
    unchanged = {pair: pk for pair, pk in free.items() if pair in set(plan)}
    before = set(Assignment.objects.filter(campaign=campaign).values_list("snapshot_id", flat=True))
    with transaction.atomic():
        for name in (
            *("description", "instructions", "per_capture", "blind", "suggestions"),
            *("rule", "status"),
        ):
            setattr(campaign, name, getattr(spec, name))
        campaign.name = spec.name or campaign.slug
        campaign.save()
        campaign.annotators.set(users)
        campaign.categories.set(categories)
        Assignment.objects.filter(pk__in=set(free.values()) - set(unchanged.values())).delete()
        Assignment.objects.bulk_create(
            Assignment(campaign=campaign, snapshot_id=s, annotator_id=a)
            for s, a in plan
            if (s, a) not in unchanged
        )
        # Its captures' pages show its work (and, while it runs blind, hide others' tags).
        Company.objects.pages_changed(
            Snapshot.objects.filter(pk__in=before | set(snapshot_ids)).values("company_id")
        )
    return Replan(added=len(plan) - len(unchanged), removed=len(free) - len(unchanged))


def _kept_assignments(
    campaign: Campaign, snapshot_ids: set[int], annotator_ids: set[int], spec: CampaignSpec
) -> tuple[list[tuple[int, int]], dict[tuple[int, int], int]]:
    """The (capture, annotator) pairs an edit must keep (finished, or begun by an annotator
    still named while the capture has room), and the others, free to be planned again, with
    their assignments' ids."""
    rows = Assignment.objects.filter(campaign=campaign).select_related("snapshot__company")
    finished_out = sorted(
        {str(row.snapshot) for row in rows if row.done_at and row.snapshot_id not in snapshot_ids}
    )
    if finished_out:
        raise CampaignError(
            f"captures: finished work cannot be taken out: {', '.join(finished_out)}"
        )
    begun = set(
        Annotation.objects.filter(campaign=campaign, layer=Annotation.Layer.ANNOTATOR)
        .values_list("snapshot_id", "annotator_id")
        .distinct()
    )
    kept, free = [], {}
    room: Counter[int] = Counter()
    for row in sorted(rows, key=lambda row: (row.done_at is None, row.pk)):
        pair = (row.snapshot_id, row.annotator_id)
        must_keep = row.done_at is not None or (
            pair in begun
            and row.annotator_id in annotator_ids
            and room[row.snapshot_id] < spec.per_capture
        )
        if must_keep:
            kept.append(pair)
            room[row.snapshot_id] += 1
        else:
            free[pair] = row.pk
    return kept, free


def mark_done(campaign: Campaign, snapshot_id: int, user, done: bool = True) -> bool:
    """Mark (or unmark) the user's work on a capture; False when they have no such assignment."""
    with transaction.atomic():
        updated = Assignment.objects.filter(
            campaign=campaign, snapshot_id=snapshot_id, annotator=user
        ).update(done_at=timezone.now() if done else None)
        # A blind annotator sees everyone's tags on a capture once it is done.
        Company.objects.pages_changed(Snapshot.objects.filter(pk=snapshot_id).values("company_id"))
    return bool(updated)


def next_capture(campaign: Campaign, user) -> Snapshot | None:
    """The user's next capture to do in the campaign, in company and date order."""
    todo = Assignment.objects.filter(campaign=campaign, annotator=user, done_at__isnull=True)
    first = (
        todo.select_related("snapshot__company")
        .order_by("snapshot__company__slug", "snapshot__captured_at")
        .first()
    )
    return first.snapshot if first else None


@dataclass(frozen=True)
class Progress:
    """A campaign's progress: per annotator (assigned, done) and per capture."""

    per_annotator: list[tuple[str, int, int]]
    per_capture: list[tuple[Snapshot, list[tuple[str, bool]]]]
    captures: int
    captures_done: int  # every assigned annotator has marked it done

    @property
    def share_done(self) -> float:
        return self.captures_done / self.captures if self.captures else 0.0


def progress(campaign: Campaign) -> Progress:
    """Two queries: the assignments with their captures, and nothing else."""
    rows = (
        Assignment.objects.filter(campaign=campaign)
        .select_related("snapshot__company", "annotator")
        .order_by("snapshot__company__slug", "snapshot__captured_at", "annotator__username")
    )
    by_capture: dict[int, tuple[Snapshot, list[tuple[str, bool]]]] = {}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        name = row.annotator.get_username()
        by_capture.setdefault(row.snapshot_id, (row.snapshot, []))[1].append(
            (name, row.done_at is not None)
        )
        counts[name][0] += 1
        counts[name][1] += row.done_at is not None
    per_capture = list(by_capture.values())
    done = sum(all(flag for _, flag in people) for _, people in per_capture)
    per_annotator = [(name, a, d) for name, (a, d) in sorted(counts.items())]
    return Progress(per_annotator, per_capture, len(per_capture), done)


def campaigns_for_list():
    """Campaigns with their number of captures and of finished assignments (one query)."""
    return Campaign.objects.annotate(
        assignment_count=Count("assignments"),
        done_count=Count("assignments", filter=Q(assignments__done_at__isnull=False)),
        capture_count=Count("assignments__snapshot", distinct=True),
    )


def own_work_only(tags, user, snapshot_id: int):
    """On a capture `user` is still annotating in a running blind campaign, only their own tags
    of that campaign (others' tags, copies and gold stay hidden until they mark it done). The
    condition is part of the same query: no query of its own."""
    if not getattr(user, "is_authenticated", False):
        return tags
    pending = Assignment.objects.filter(
        snapshot_id=snapshot_id,
        annotator=user,
        done_at__isnull=True,
        campaign__status=Campaign.Status.RUNNING,
        campaign__blind=True,
    ).values("campaign_id")
    return tags.filter(~Exists(pending) | Q(annotator=user, campaign__in=pending))


def campaign_for(user, snapshot_id: int) -> Campaign | None:
    """The running campaign in which `user` annotates this capture (tags they make there
    belong to it), or None."""
    assignment = campaign_work(user, snapshot_id)
    return assignment.campaign if assignment else None


def campaign_work(user, snapshot_id: int) -> Assignment | None:
    """The user's assignment on this capture in a running campaign (with its campaign), for
    the reader's "you are annotating this capture" bar; None for everyone else."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Assignment.objects.filter(
            snapshot_id=snapshot_id, annotator=user, campaign__status=Campaign.Status.RUNNING
        )
        .select_related("campaign")
        .order_by("campaign_id")
        .first()
    )
