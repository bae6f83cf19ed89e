"""Background tasks for suggestions: adapters that call one module function each."""

from __future__ import annotations

from django.tasks import task

from annotations.suggesting import index


@task()
def index_wordings_task(text_ids: list[int]) -> int:
    """Index the clauses of these texts (after an import); the number of clauses written."""
    return index.index_texts(text_ids)
