"""The wording index and the tagged clauses' index.

- `index_texts(text_ids)` / `index_pending()`: every clause (of at least `MIN_WORDS` words) of
  every section of a policy text, by its wording key, so each clause's other occurrences across
  all companies are one indexed lookup away. Texts are shared by identical captures, so a
  capture that repeats the previous one costs nothing. Run after imports (a background task the
  importer's `captures_imported` hook enqueues) and by `manage.py index_wordings`.
- `index_new_tags()`: each tag's clause (wording key, text, MinHash bands), for tags newer than
  the last one indexed: called in the transaction of every path that makes or reviews tags
  (`tags.pages_changed_for`: tagging, review, tag imports; the OPP-115 import; the admin), so
  a tag is suggested elsewhere on the next page load. Reading pages never writes the index.
- `shared_wordings(keys)` and `occurrences(key)`: how many other policies share a wording, and
  which (the reader's "same wording in N other policies" and its list).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Subquery, Value
from django.db.models.functions import Coalesce

from annotations.models import (
    Annotation,
    ClauseWording,
    IndexedText,
    TaggedBand,
    TaggedWording,
)
from annotations.suggesting.wording import bands, is_indexed, sentence_spans, wording_key
from policies.bulk import copy_rows
from policies.models import PolicyText, Section, Snapshot

# Bump when the clause cut or the key changes: `index_pending` then indexes every text again.
INDEX_VERSION = 1
_BATCH = 200


Row = tuple[int, int, int, int]  # section id, start, end, wording key


def _section_rows(section_id: int, plain: str) -> list[Row]:
    rows = []
    for start, end in sentence_spans(plain):
        clause = plain[start:end]
        if is_indexed(clause):
            rows.append((section_id, start, end, wording_key(clause)))
    return rows


def _write(rows: list[Row]) -> None:
    """Insert index rows: COPY on PostgreSQL (the ORM's INSERT spends more time building SQL
    than the database spends storing a row), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        ClauseWording.objects.bulk_create(
            [ClauseWording(section_id=s, start=a, end=b, wording=w) for s, a, b, w in rows],
            batch_size=5000,
        )
        return
    copy_rows(ClauseWording._meta.db_table, ["section_id", "start", "end", "wording"], rows)


def index_texts(text_ids: Iterable[int]) -> int:
    """(Re)index the clauses of these texts; returns the number of clauses written."""
    ids, written = list(dict.fromkeys(text_ids)), 0
    for at in range(0, len(ids), _BATCH):
        batch = ids[at : at + _BATCH]
        sections = Section.objects.filter(text_id__in=batch).values_list("pk", "plain")
        rows = [row for pk, plain in sections.iterator(2000) for row in _section_rows(pk, plain)]
        with transaction.atomic():
            ClauseWording.objects.filter(section__text_id__in=batch).delete()
            _write(rows)
            IndexedText.objects.filter(text_id__in=batch).delete()
            IndexedText.objects.bulk_create(
                [IndexedText(text_id=pk, version=INDEX_VERSION) for pk in batch]
            )
        written += len(rows)
    return written


def pending_texts() -> list[int]:
    """Texts not yet in the index at its current version."""
    done = IndexedText.objects.filter(version=INDEX_VERSION).values("text_id")
    return list(PolicyText.objects.exclude(pk__in=done).values_list("pk", flat=True))


def index_pending() -> int:
    """Index every text not yet indexed; returns the number of clauses written."""
    return index_texts(pending_texts())


def texts_of(snapshot_ids: list[int]) -> list[int]:
    return list(
        Snapshot.objects.filter(pk__in=snapshot_ids).values_list("text_id", flat=True).distinct()
    )


def _tag_clause(tag: Annotation) -> str:
    """The clause a tag was made on: the tag's own words when they are a whole clause, else
    the clause it covers most of (at least half of it), else "" (a few words of a sentence)."""
    plain = tag.section.plain
    best, best_share = "", 0.5
    for start, end in sentence_spans(plain):
        overlap = min(end, tag.end) - max(start, tag.start)
        if overlap > 0 and overlap / (end - start) >= best_share:
            best, best_share = plain[start:end], overlap / (end - start)
    return best if is_indexed(best) else ""


def index_tags(tags: Iterable[Annotation]) -> int:
    """Index (again) these tags' clauses; returns how many have a clause."""
    rows, found = [], 0
    tags = list(tags)
    for tag in tags:
        clause = _tag_clause(tag)
        found += bool(clause)
        rows.append((tag, clause))
    with transaction.atomic():
        TaggedWording.objects.filter(tag__in=tags).delete()
        made = TaggedWording.objects.bulk_create(
            [
                TaggedWording(tag=tag, wording=wording_key(clause) if clause else None, text=clause)
                for tag, clause in rows
            ]
        )
        TaggedBand.objects.bulk_create(
            [TaggedBand(tagged=tw, band=band) for tw in made if tw.text for band in bands(tw.text)],
            batch_size=5000,
        )
    return found


def reindex_tags_on(section_ids: list[int]) -> int:
    """Index again the tags on these sections (their text or span changed)."""
    tags = Annotation.objects.filter(section_id__in=section_ids).select_related("section")
    return index_tags(tags.only("pk", "start", "end", "section__plain"))


def index_new_tags() -> int:
    """Index the tags made since the last one indexed; carried copies are left out (their
    origin's clause has the same wording). One query when there are none."""
    latest = TaggedWording.objects.order_by("-tag_id").values("tag_id")[:1]
    last = Coalesce(Subquery(latest), Value(0))
    new = (
        Annotation.objects.filter(pk__gt=last)
        .exclude(kind=Annotation.Kind.CARRIED)
        .select_related("section")
        .only("pk", "start", "end", "section__plain")
        .order_by("pk")
    )
    found = 0
    while batch := list(new[:1000]):
        found += index_tags(batch)
        new = new.filter(pk__gt=batch[-1].pk)
    return found


@dataclass(frozen=True)
class Occurrence:
    company: str
    company_name: str
    timestamp: str
    captured: str
    url: str


def shared_wordings(keys: Iterable[int], company_id: int) -> dict[int, int]:
    """For each wording key, how many *other* companies' policies contain it (0 left out)."""
    keys = list(set(keys))
    if not keys:
        return {}
    counts = (
        ClauseWording.objects.filter(wording__in=keys)
        .exclude(section__text__snapshots__company_id=company_id)
        .values("wording")
        .annotate(n=Count("section__text__snapshots__company", distinct=True))
    )
    return {row["wording"]: row["n"] for row in counts if row["n"]}


def occurrences(key: int, limit: int = 500) -> list[Occurrence]:
    """Each company whose policy contains the wording, with its first capture containing it."""
    texts = ClauseWording.objects.filter(wording=key).values("section__text_id")
    first: dict[int, Snapshot] = {}
    for snapshot in (
        Snapshot.objects.filter(text_id__in=texts)
        .select_related("company")
        .order_by("company__name", "company_id", "captured_at")
        .iterator(chunk_size=2000)
    ):
        first.setdefault(snapshot.company_id, snapshot)
        if len(first) >= limit:
            break
    return [_occurrence(s) for s in first.values()]


def _occurrence(snapshot: Snapshot) -> Occurrence:
    return Occurrence(
        company=snapshot.company.slug,
        company_name=snapshot.company.name,
        timestamp=snapshot.timestamp,
        captured=f"{snapshot.captured_at:%Y-%m-%d}",
        url=snapshot.get_absolute_url(),
    )


@dataclass(frozen=True)
class SharedClause:
    section: Section
    text: str
    key: int
    companies: int  # other companies whose policies contain the wording


def shared_clauses(snapshot: Snapshot) -> list[SharedClause]:
    """The capture's clauses found in other companies' policies, in reading order (indexes the
    capture's text first if the background task has not yet)."""
    if not IndexedText.objects.filter(text_id=snapshot.text_id, version=INDEX_VERSION).exists():
        index_texts([snapshot.text_id])
    sections = {s.pk: s for s in Section.objects.filter(text_id=snapshot.text_id)}
    rows = ClauseWording.objects.filter(section_id__in=sections)
    rows = rows.order_by("section__position", "start")
    clauses = [(sections[r.section_id], r) for r in rows]
    counts = shared_wordings([r.wording for _, r in clauses], snapshot.company_id)
    return [
        SharedClause(section, section.plain[r.start : r.end], r.wording, counts[r.wording])
        for section, r in clauses
        if counts.get(r.wording)
    ]


def wording_text(key: int) -> str:
    """The words of an indexed wording (from one of its clauses)."""
    row = ClauseWording.objects.filter(wording=key).select_related("section").first()
    return row.section.plain[row.start : row.end] if row else ""


def index_stats() -> dict[str, int]:
    return {
        "texts": IndexedText.objects.filter(version=INDEX_VERSION).count(),
        "clauses": ClauseWording.objects.count(),
        "tagged": TaggedWording.objects.exclude(wording=None).count(),
    }
