"""Background tasks (Django's tasks framework): adapters that call one module function each.

Run by `manage.py db_worker` (django-tasks-db) in production, started by `make run` alongside
the development server, and inside the request with the immediate backend (tests).
"""

from __future__ import annotations

from django.tasks import task

from policies.importing.uploads import import_upload


@task()
def import_upload_task(run_id: int) -> dict[str, int] | None:
    """Import the files uploaded for run `run_id`; the counts, or None if it was not queued."""
    summary = import_upload(run_id)
    if summary is None:
        return None
    return {
        "files_read": summary.files_read,
        "new": summary.new,
        "unchanged": summary.unchanged,
        "present": summary.present,
        "failed": summary.failed,
    }
