"""How suggestions join policies' work (registered in AnnotationsConfig.ready)."""

from __future__ import annotations

from django.db import transaction

from annotations.suggesting import index
from policies.models import Section


def index_imported_texts(snapshot_ids: list[int]) -> None:
    """After an import commits, index the new captures' texts in the background (cutting
    sentences would slow the import; the reader cuts a capture's clauses itself until then)."""
    from annotations.suggesting.tasks import index_wordings_task

    text_ids = index.texts_of(snapshot_ids)
    if text_ids:
        transaction.on_commit(lambda: index_wordings_task.enqueue(text_ids))


def index_changed_texts(section_ids: list[int]) -> list:
    """Sections' readable text was derived again: index their texts again, and the tags on them
    (re-anchored by then)."""
    text_ids = set(Section.objects.filter(pk__in=section_ids).values_list("text_id", flat=True))
    index.index_texts(text_ids)
    index.reindex_tags_on(section_ids)
    return []
