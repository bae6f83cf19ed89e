"""Company-level workflows: merging companies that turn out to be one owner."""

from __future__ import annotations

from django.db import transaction

from policies.models import Company, Domain, Snapshot


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
