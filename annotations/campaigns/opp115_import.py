"""The OPP-115 corpus as a campaign: its policies become captures, its annotators users, their
data practices tags, all in the campaign `opp-115` (three annotators per capture, all done).

`opp115.read_corpus` reads the release (pure); this module writes it, one transaction per
policy, so a failure leaves whole policies. Re-running imports nothing twice: a policy whose
capture exists is reported as already present.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from annotations.campaigns.opp115 import (
    CATEGORY_SLUGS,
    OppPolicy,
    OppPractice,
    attribute_slug,
    read_corpus,
)
from annotations.lineage.follow import context_around
from annotations.models import Annotation, Assignment, AttributeValue, Campaign, Category
from annotations.tagging.tags import pages_changed_for, whole_words
from policies.models import Company, Domain, PolicyText, Section, Snapshot
from policies.reading.text import TEXT_VERSION, count_words, wording_hash

SLUG = "opp-115"


@dataclass
class Opp115Report:
    """What an import did, policy by policy, and every anchoring case counted."""

    imported: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # with the reason
    tags: int = 0
    duplicates: int = 0  # the same annotator, category and span twice: kept once
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def import_opp115(path: Path) -> Opp115Report:
    """Import the release at `path` (a folder or a .zip) into the campaign `opp-115`."""
    report = Opp115Report()
    campaign, _ = Campaign.objects.get_or_create(
        slug=SLUG,
        defaults={
            "name": "OPP-115 (Wilson et al., ACL 2016)",
            "description": "The OPP-115 corpus: 115 policies, each tagged by three annotators.",
            "status": Campaign.Status.CLOSED,
            "per_capture": 3,
        },
    )
    categories = {c.slug: c for c in Category.objects.all()}
    values = _allowed_values()
    for policy in read_corpus(path):
        report.problems.extend(str(p) for p in policy.problems)
        report.counts.update(policy.counts)
        if policy.collected is None:
            report.skipped.append(f"{policy.name}: no collection date in policies_opp115.csv")
            continue
        with transaction.atomic():
            _import_policy(policy, campaign, categories, values, report)
    return report


def _allowed_values() -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = {}
    for slug, value in AttributeValue.objects.values_list("attribute__slug", "value"):
        allowed.setdefault(slug, set()).add(value)
    return allowed


def _import_policy(policy: OppPolicy, campaign, categories, values, report) -> None:
    company, domain = _company(policy.domain)
    when = datetime.combine(policy.collected, time(0), tzinfo=UTC)
    if Snapshot.objects.filter(company=company, captured_at=when).exists():
        report.present.append(policy.name)
        return
    text, sections = _text(policy)
    snapshot = Snapshot.objects.create(
        company=company,
        domain=domain,
        captured_at=when,
        archive_url=policy.url or f"http://{policy.domain}/",
        source_url=policy.url,
        page_title=f"OPP-115 {policy.name}",
        text=text,
    )
    Snapshot.objects.refresh_unchanged_flags([company.pk])
    Company.objects.refresh_capture_stats([company.pk])
    users = _annotators({p.annotator_id for p in policy.practices})
    campaign.annotators.add(*users.values())
    Assignment.objects.bulk_create(
        Assignment(campaign=campaign, snapshot=snapshot, annotator=u, done_at=timezone.now())
        for u in users.values()
    )
    tags, seen = [], set()
    for practice in policy.practices:
        tag = _tag(practice, snapshot, sections, users, categories, values, campaign)
        key = (tag.section_id, tag.start, tag.end, tag.category_id, tag.annotator_id)
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        tags.append(tag)
    Annotation.objects.bulk_create(tags, batch_size=1000)
    pages_changed_for([snapshot.pk])  # indexes the tags' clauses for suggestions too
    report.tags += len(tags)
    report.imported.append(policy.name)


def _company(domain: str) -> tuple[Company, Domain]:
    existing = Domain.objects.filter(name=domain).select_related("company").first()
    if existing is not None:
        return existing.company, existing
    company, _ = Company.objects.get_or_create(slug=domain, defaults={"name": domain})
    return company, Domain.objects.create(name=domain, company=company)


def _text(policy: OppPolicy) -> tuple[PolicyText, list[Section]]:
    """The policy as a stored text with one section per segment (what annotators read)."""
    bodies = [f"{segment.markdown}\n\n" for segment in policy.segments]
    body = "".join(bodies)
    sha = hashlib.sha256(body.encode("utf-8")).hexdigest()
    found = PolicyText.objects.filter(sha256=sha).first()
    if found is not None:
        return found, list(found.sections.order_by("position"))
    plains = [segment.text for segment in policy.segments]
    text = PolicyText.objects.create(
        sha256=sha,
        normalized_hash=wording_hash(plains),
        body=body,
        word_count=sum(map(count_words, plains)),
        page_title=f"OPP-115 {policy.name}",
        text_version=TEXT_VERSION,
    )
    sections = Section.objects.bulk_create(
        Section(
            text=text,
            position=segment.index,
            heading=f"Segment {segment.index + 1}",
            level=2,
            body=section_body,
            anchor=f"segment-{segment.index + 1}",
            plain=segment.text,
        )
        for segment, section_body in zip(policy.segments, bodies, strict=True)
    )
    return text, sections


def _annotators(ids: set[str]) -> dict[str, object]:
    """An inactive user `opp115-<id>` per annotator id (made once)."""
    model = get_user_model()
    users = {}
    for annotator_id in sorted(ids):
        user, created = model.objects.get_or_create(
            username=f"opp115-{annotator_id}", defaults={"is_active": False}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users[annotator_id] = user
    return users


def _tag(practice: OppPractice, snapshot, sections, users, categories, values, campaign):
    section = sections[practice.segment_index]
    text = section.plain
    spans = [s for s in practice.spans if s.end > s.start] or [None]
    start = min(s.start for s in spans) if spans[0] else 0
    end = max(s.end for s in spans) if spans[0] else len(text)
    start, end = whole_words(text, start, end)
    if start >= end:
        start, end = whole_words(text, 0, len(text))
    attributes = {}
    for name, value in practice.attributes.items():
        slug = attribute_slug(name)
        if slug and value in values.get(slug, ()):
            attributes[slug] = value
    prefix, suffix = context_around(text, start, end)
    return Annotation(
        snapshot=snapshot,
        section=section,
        start=start,
        end=end,
        quote=text[start:end],
        prefix=prefix,
        suffix=suffix,
        category=categories[CATEGORY_SLUGS[practice.category]],
        attributes=attributes,
        annotator=users[practice.annotator_id],
        campaign=campaign,
        layer=Annotation.Layer.ANNOTATOR,
    )
