"""An importer killed with SIGKILL mid-batch leaves no half-written capture, and running the same
command again completes the batch with exact counts.

The importer writes BATCH_FILES files per transaction (policies.importing.importer). The command
runs in a subprocess against this test's PostgreSQL database and is killed while it holds a
batch's transaction open; what it committed must be whole batches, each capture with its text and
sections, and the rerun must add exactly the rest.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess  # nosec B404 -- runs this project's manage.py
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from policies.importing.importer import BATCH_FILES
from policies.models import ImportFileResult, ImportRun, PolicyText, Snapshot
from policies.tests.factories import write_policy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FILES = 3000
COMPANIES = 300  # ten captures each
APP_NAME = "palimpsest-sigkill-test"
SUMMARY = re.compile(
    r"Files read: (\d+), new captures: (\d+), unchanged captures: (\d+), "
    r"already present: (\d+), failed: (\d+)\."
)


def _write_corpus(folder: Path) -> None:
    """FILES small policies, every body different (so every capture is new, none unchanged)."""
    folder.mkdir()
    for n in range(FILES):
        company, capture = divmod(n, FILES // COMPANIES)
        body = (
            f"# Privacy policy {n}\n\nCompany {company} collects item {n}.\n\n"
            f"## Sharing\n\nVersion {capture} shares data with partner {n % 7}.\n"
        )
        timestamp = f"20{10 + capture:02d}0102030405"
        write_policy(folder, f"company{company:03d}.example", timestamp, body)


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return (
        f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        f"?application_name={APP_NAME}"
    )


def _command(folder: Path) -> list[str]:
    return [sys.executable, "manage.py", "import_policies", "--no-progress", str(folder)]


def _env() -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": _database_url(), "DEBUG": "0", "CONN_MAX_AGE": "0"}


def _importer_in_transaction() -> bool:
    """The importer's connection is inside an explicit transaction that has written rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND backend_xid IS NOT NULL AND state IN ('active', 'idle in transaction')",
            [APP_NAME],
        )
        return cursor.fetchone()[0] > 0


def _wait_for_disconnect(timeout: float = 30) -> None:
    """The killed client's server process ends (and releases its locks) on its own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the killed importer's database session did not end")


def _assert_nothing_half_written() -> None:
    assert not Snapshot.objects.filter(text__sections__isnull=True).exists()
    assert not PolicyText.objects.filter(sections__isnull=True).exists()
    assert not PolicyText.objects.filter(snapshots__isnull=True).exists()
    for text in PolicyText.objects.prefetch_related("sections"):
        # The sections joined give the body back: none is missing or cut short.
        assert "".join(s.body for s in text.sections.all()) == text.body
    for run in ImportRun.objects.all():
        results = ImportFileResult.objects.filter(run=run)
        assert run.files_read == results.count()
        assert run.new_count == Snapshot.objects.filter(import_run=run).count()
        assert run.new_count == results.filter(outcome="new").count()


def test_sigkill_mid_batch_then_rerun_completes_the_batch(tmp_path):
    folder = tmp_path / "corpus"
    _write_corpus(folder)
    assert FILES > 3 * BATCH_FILES

    importer = subprocess.Popen(  # nosec B603 -- fixed arguments
        _command(folder), cwd=settings.BASE_DIR, env=_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        # Kill it inside a transaction, once at least two batches are committed.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and importer.poll() is None:
            if Snapshot.objects.count() >= 2 * BATCH_FILES and _importer_in_transaction():
                break
            time.sleep(0.005)
        assert importer.poll() is None, "the import finished before it could be killed"
        importer.send_signal(signal.SIGKILL)
        importer.wait(timeout=30)
    finally:
        if importer.poll() is None:
            importer.kill()
    assert importer.returncode == -signal.SIGKILL
    _wait_for_disconnect()

    committed = Snapshot.objects.count()
    assert 2 * BATCH_FILES <= committed < FILES
    assert committed % BATCH_FILES == 0, f"{committed} captures: a batch was half-written"
    _assert_nothing_half_written()
    killed_run = ImportRun.objects.get()
    assert killed_run.status == ImportRun.Status.RUNNING  # it could not say it died
    assert killed_run.new_count == committed

    rerun = subprocess.run(  # nosec B603 -- fixed arguments
        _command(folder),
        cwd=settings.BASE_DIR,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    read, new, unchanged, present, failed = map(int, SUMMARY.search(rerun.stdout).groups())
    assert (read, new, unchanged, present, failed) == (FILES, FILES - committed, 0, committed, 0)
    assert new + present == FILES
    assert Snapshot.objects.count() == FILES
    assert PolicyText.objects.count() == FILES
    _assert_nothing_half_written()
    second = ImportRun.objects.exclude(pk=killed_run.pk).get()
    assert (second.status, second.new_count, second.present_count) == (
        ImportRun.Status.SUCCEEDED,
        FILES - committed,
        committed,
    )
