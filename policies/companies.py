"""Company-level workflows: finding companies by what a person typed, and merging companies
that turn out to be one owner."""

from __future__ import annotations

import difflib

from django.db import transaction
from django.db.models import Q

from policies.models import Company, Domain, Snapshot

# Close matches are looked for among the companies sharing a first few letters or the main part
# of the name with what was typed: difflib over a 100,000-company corpus would take seconds.
_CANDIDATES = 2000


def companies_starting(typed: str, limit: int = 20) -> list[str]:
    """Company slugs for a picker: those starting with `typed` first, then containing it."""
    typed = typed.strip().lower()
    if not typed:
        return list(Company.objects.order_by("slug").values_list("slug", flat=True)[:limit])
    starting = list(
        Company.objects.filter(slug__startswith=typed)
        .order_by("slug")
        .values_list("slug", flat=True)[:limit]
    )
    if len(starting) < limit:
        starting += (
            Company.objects.filter(slug__contains=typed)
            .exclude(slug__startswith=typed)
            .order_by("slug")
            .values_list("slug", flat=True)[: limit - len(starting)]
        )
    return starting


def complete_company_list(typed: str, limit: int = 20) -> list[str]:
    """Completions for a comma-separated list of companies being typed: the companies before
    the last comma stay, the last one is completed ("acme.example, mul" → "acme.example,
    mullvad.net", ...), so a plain <datalist> can offer them."""
    *done, last = typed.split(",")
    kept = ", ".join(part.strip() for part in done if part.strip())
    prefix = f"{kept}, " if kept else ""
    return [prefix + slug for slug in companies_starting(last, limit)]


def unknown_companies(slugs: tuple[str, ...]) -> dict[str, list[str]]:
    """Each slug that names no company, with up to three close matches (may be empty)."""
    known = set(Company.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    return {slug: close_companies(slug) for slug in slugs if slug not in known}


def close_companies(typed: str, n: int = 3) -> list[str]:
    """Company slugs that look like `typed` (a typo, a missing "www.", another suffix)."""
    typed = typed.strip().lower()
    stem = typed.removeprefix("www.").split(".")[0]
    near = Q(slug__startswith=typed[:3]) | Q(slug__contains=stem) if stem else Q(pk__in=[])
    candidates = Company.objects.filter(near).values_list("slug", flat=True)[:_CANDIDATES]
    return difflib.get_close_matches(typed, list(candidates), n=n, cutoff=0.6)


class MergeConflict(Exception):
    """Two companies hold different captures at the same instant; merging would lose one."""


def merge_companies(target: Company, others: list[Company]) -> int:
    """Move every domain and capture of `others` to `target`, then delete `others`.

    A capture that duplicates one already in `target` (same time, same text) is dropped; a
    different capture at the same time raises MergeConflict and nothing changes.
    Returns the number of captures moved.
    """
    others = [c for c in others if c.pk != target.pk]
    if not others:
        return 0
    with transaction.atomic():
        target_times = dict(
            Snapshot.objects.filter(company=target).values_list("captured_at", "text_id")
        )
        moving = Snapshot.objects.filter(company__in=others)
        duplicates = []
        for pk, when, text_id, slug in moving.values_list(
            "pk", "captured_at", "text_id", "company__slug"
        ):
            if when not in target_times:
                target_times[when] = text_id
            elif target_times[when] == text_id:
                duplicates.append(pk)
            else:
                raise MergeConflict(
                    f"{slug} and {target.slug} both have a capture at {when:%Y-%m-%d %H:%M:%S} "
                    "with different text; delete one of them first."
                )
        Snapshot.objects.filter(pk__in=duplicates).delete()
        moved = moving.update(company=target)
        Domain.objects.filter(company__in=others).update(company=target)
        Company.objects.filter(pk__in=[c.pk for c in others]).delete()
        Snapshot.objects.refresh_unchanged_flags([target.pk])
        Company.objects.refresh_capture_stats([target.pk])
    return moved
