"""From annotators' tags to units, agreement and gold.

A *unit* is a section of a capture (or, with `unit="clause"`, a clause of one) whose assigned
annotators have all marked the capture done. In a unit, an annotator *votes* for a category
when they made at least one tag of it there (their own tags in the campaign, not copies).

Gold is a layer of tags of its own: a curator accepts a category of a unit into gold (or
rejects it), or `consolidate` lets the campaign's rule decide where curators have not: the
gold tag spans the annotators' tags of that category in the unit. Every decision is kept with
who made it (or which rule) and when (`GoldDecision`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from annotations.campaigns.agreement import AgreementRow, Unit, category_agreement
from annotations.models import Annotation, Assignment, Campaign, Category, GoldDecision
from annotations.tagging.tags import TagRequest, create_tag, delete_tag
from policies.models import Section, Snapshot
from policies.reading.clauses import section_clauses

UNITS = ("section", "clause")


@dataclass
class UnitVotes:
    """One unit: who rated it, who voted for which category, their spans, and decisions."""

    key: str
    snapshot: Snapshot
    section: Section
    span: tuple[int, int]  # the unit's extent in the section's text
    raters: list[str]
    votes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    decisions: dict[str, GoldDecision] = field(default_factory=dict)

    def unit(self) -> Unit:
        ratings = {name: frozenset() for name in self.raters}
        for category, voters in self.votes.items():
            for name in voters:
                ratings[name] = ratings.get(name, frozenset()) | {category}
        return Unit(self.key, ratings)

    @property
    def disputed(self) -> int:
        return sum(0 < len(v) < len(self.raters) for v in self.votes.values())


def rule_accepts(rule: str, voters: int, raters: int) -> bool:
    """Whether the campaign's rule puts a category into gold: majority (more than half),
    union (anyone), unanimous (everyone)."""
    if rule == Campaign.Rule.UNION:
        return voters > 0
    if rule == Campaign.Rule.UNANIMOUS:
        return raters > 0 and voters == raters
    return voters * 2 > raters


def campaign_categories(campaign: Campaign) -> list[Category]:
    """The campaign's categories (the whole taxonomy when it names none)."""
    chosen = list(campaign.categories.all())
    return chosen or list(Category.objects.all())


def _finished(campaign: Campaign, snapshot: Snapshot | None) -> dict[int, list[str]]:
    """Captures whose assigned annotators have all marked them done, with those annotators."""
    rows = Assignment.objects.filter(campaign=campaign)
    if snapshot is not None:
        rows = rows.filter(snapshot=snapshot)
    people: dict[int, list[str]] = defaultdict(list)
    open_captures = set()
    for snapshot_id, name, done in rows.values_list(
        "snapshot_id", "annotator__username", "done_at"
    ):
        people[snapshot_id].append(name)
        if done is None:
            open_captures.add(snapshot_id)
    return {s: sorted(names) for s, names in people.items() if s not in open_captures}


def campaign_units(
    campaign: Campaign, *, unit: str = "section", snapshot: Snapshot | None = None
) -> list[UnitVotes]:
    """The campaign's finished units with their votes, in capture and section order. A fixed
    number of queries: assignments, captures, sections, tags, decisions."""
    raters = _finished(campaign, snapshot)
    captures = Snapshot.objects.filter(pk__in=raters).select_related("company")
    captures = {s.pk: s for s in captures.order_by("company__slug", "captured_at")}
    sections = defaultdict(list)
    for section in Section.objects.filter(text_id__in={s.text_id for s in captures.values()}).only(
        "pk", "text_id", "position", "heading", "anchor", "plain"
    ):
        sections[section.text_id].append(section)
    units: dict[tuple[int, int], list[UnitVotes]] = {}
    for capture in captures.values():
        for section in sorted(sections[capture.text_id], key=lambda s: s.position):
            units[capture.pk, section.pk] = [
                UnitVotes(
                    f"{capture.company.slug}/{capture.captured_at:%Y-%m-%d}/{section.anchor}{suffix}",
                    capture,
                    section,
                    span,
                    raters[capture.pk],
                )
                for suffix, span in _unit_spans(section, unit)
            ]
    _add_votes(campaign, captures, units)
    _add_decisions(campaign, captures, units)
    return [u for group in units.values() for u in group]


def _unit_spans(section: Section, unit: str) -> list[tuple[str, tuple[int, int]]]:
    if unit == "section":
        return [("", (0, len(section.plain)))]
    spans = section_clauses(section.plain)
    return [(f"#{n}", span) for n, span in enumerate(spans, start=1)]


def _add_votes(campaign, captures, units) -> None:
    tags = Annotation.objects.filter(
        campaign=campaign,
        layer=Annotation.Layer.ANNOTATOR,
        kind=Annotation.Kind.ORIGINAL,
        snapshot_id__in=list(captures),
    ).shown()
    for snapshot_id, section_id, name, slug, start, end in tags.values_list(
        "snapshot_id", "section_id", "annotator__username", "category__slug", "start", "end"
    ):
        for unit in units.get((snapshot_id, section_id), []):
            if name in unit.raters and start < unit.span[1] and end > unit.span[0]:
                unit.votes[slug].add(name)
                unit.spans[slug].append((start, end))


def _add_decisions(campaign, captures, units) -> None:
    decisions = GoldDecision.objects.filter(
        campaign=campaign, snapshot_id__in=list(captures)
    ).select_related("category", "decided_by")
    for decision in decisions:
        for unit in units.get((decision.snapshot_id, decision.section_id), []):
            unit.decisions[decision.category.slug] = decision


def agreement(
    campaign: Campaign, *, unit: str = "section", company: str = "", category: str = ""
) -> tuple[list[AgreementRow], list[UnitVotes]]:
    """Agreement rows per category and "all", over the campaign's finished units (optionally
    one company's), and the units themselves."""
    units = campaign_units(campaign, unit=unit)
    if company:
        units = [u for u in units if u.snapshot.company.slug == company]
    slugs = [c.slug for c in campaign_categories(campaign)]
    if category:
        slugs = [s for s in slugs if s == category]
    return category_agreement([u.unit() for u in units], slugs), units


def decide(
    campaign: Campaign, unit: UnitVotes, category: Category, accept: bool, user, rule: str = ""
) -> GoldDecision:
    """Accept `category` into the unit's gold (a gold tag over the annotators' spans) or reject
    it (removing a gold tag made before), and record who decided and when."""
    with transaction.atomic():
        existing = Annotation.objects.filter(
            campaign=campaign,
            layer=Annotation.Layer.GOLD,
            kind=Annotation.Kind.ORIGINAL,
            snapshot=unit.snapshot,
            section=unit.section,
            category=category,
            start__lt=unit.span[1],
            end__gt=unit.span[0],
        ).first()
        if accept and existing is None:
            _make_gold(campaign, unit, category, user)
        elif not accept and existing is not None:
            delete_tag(existing.pk, user, existing.version)
        decision, _ = GoldDecision.objects.update_or_create(
            campaign=campaign,
            snapshot=unit.snapshot,
            section=unit.section,
            category=category,
            defaults={"accepted": accept, "rule": rule, "decided_by": user},
        )
    return decision


def _make_gold(campaign: Campaign, unit: UnitVotes, category: Category, user) -> Annotation:
    spans = unit.spans.get(category.slug) or [unit.span]
    start, end = min(a for a, _ in spans), max(b for _, b in spans)
    text = unit.section.plain
    request = TagRequest(
        unit.snapshot,
        unit.section,
        start,
        end,
        text[start:end],
        category,
        {},
        layer=Annotation.Layer.GOLD,
        campaign=campaign,
    )
    return create_tag(request, user)[0]


def consolidate(campaign: Campaign, rule: str, user=None) -> dict[str, int]:
    """Let `rule` decide every undecided category of every finished unit; curators' decisions
    stand. Returns how many categories were accepted and rejected, and how many were left."""
    categories = {c.slug: c for c in campaign_categories(campaign)}
    counts = {"accepted": 0, "rejected": 0, "already decided": 0}
    for unit in campaign_units(campaign):
        for slug, category in categories.items():
            if slug in unit.decisions:
                counts["already decided"] += 1
                continue
            voters = len(unit.votes.get(slug, ()))
            if voters == 0:
                continue  # nobody tagged it: nothing to decide
            accept = rule_accepts(rule, voters, len(unit.raters))
            decide(campaign, unit, category, accept, user, rule=rule)
            counts["accepted" if accept else "rejected"] += 1
    return counts
