"""Background tasks for suggestions: adapters that call one module function each.

Run by `manage.py db_worker` in production (see policies/importing/tasks.py).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.tasks import task

from annotations.suggesting import index
from annotations.suggesting.model import train


@task()
def index_wordings_task(text_ids: list[int]) -> int:
    """Index the clauses of these texts (after an import); the number of clauses written."""
    return index.index_texts(text_ids)


@task()
def train_suggester_task(labels: str = "auto", user_id: int | None = None) -> dict[str, object]:
    """Train a new version of the category model; its version, status and error."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    row = train(labels, user=user)
    return {"version": row.version, "status": row.status, "error": row.error}
