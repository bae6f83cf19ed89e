"""Imports from the browser, through Django's test client with real files and real archives.

The import task runs in the request (immediate backend) unless a test says otherwise; the
worker tests run django-tasks-db's real `db_worker`, once in this process and once as a
subprocess that is killed halfway.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from policies.importing.uploads import form_wording, mark_stale_runs
from policies.models import ImportFileResult, ImportRun, Snapshot
from policies.permissions import CURATOR, IMPORTER, RESEARCHER, REVIEWER
from policies.tests.factories import policy_text

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
Status = ImportRun.Status
Outcome = ImportFileResult.Outcome


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = IMMEDIATE
    return settings.MEDIA_ROOT


def make_user(username: str = "importer", *, role: str | None = IMPORTER, **flags) -> User:
    user = User.objects.create_user(username, **flags)  # no password: fast, force_login
    if role:
        # get_or_create: a transactional test elsewhere may have flushed the migrated groups.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def importer_client(client) -> Client:
    client.force_login(make_user())
    return client


@pytest.fixture
def staff_client(client) -> Client:
    client.force_login(make_user("staff", role=None, is_staff=True))
    return client


def zip_upload(name: str, members: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def seeds_zip(sample_dir: Path) -> SimpleUploadedFile:
    seeds = sorted((sample_dir / "seeds").iterdir())
    return zip_upload("seeds.zip", {f"seeds/{p.name}": p.read_bytes() for p in seeds})


def upload(client: Client, *files: SimpleUploadedFile, **fields):
    return client.post(reverse("import_new"), {"files": list(files), **fields})


def make_run(results: int = 0, **fields) -> ImportRun:
    defaults = {"source": "policies.zip", "status": Status.SUCCEEDED, "files_read": results}
    run = ImportRun.objects.create(**{**defaults, **fields})
    ImportFileResult.objects.bulk_create(
        ImportFileResult(
            run=run,
            position=n,
            name=f"policies.zip:p{n}.md",
            outcome=Outcome.FAILED if n % 10 == 0 else Outcome.NEW,
            reason="missing header line" if n % 10 == 0 else "",
        )
        for n in range(results)
    )
    return run


def generated_policies(count: int) -> dict[str, bytes]:
    """`count` small, distinct captures: 10 a company, every one a different text."""
    files = {}
    for n in range(count):
        domain = f"company{n // 10:04d}.example"
        timestamp = f"20{10 + n % 10:02d}0601120000"
        body = f"# Privacy\n\n## Data\n\nPolicy {n} of {domain}: we keep item {n * 7919}.\n"
        files[f"{domain}_{timestamp}.md"] = policy_text(domain, timestamp, body).encode()
    return files


# --- uploading -----------------------------------------------------------------------------


def test_seed_zip_imports_five_captures_with_a_report(staff_client, sample_dir, media):
    response = upload(staff_client, seeds_zip(sample_dir))

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("import_detail", args=[run.pk])
    assert Snapshot.objects.count() == 5
    assert run.status == Status.SUCCEEDED
    assert (run.total_files, run.files_read, run.failed_count) == (5, 5, 0)
    assert run.new_count + run.unchanged_count == 5
    assert run.user.username == "staff"
    assert not (media / run.upload_dir).exists(), "a finished upload is not kept"

    page = staff_client.get(response["Location"]).content.decode()
    assert 'id="import-report"' in page
    assert 'id="import-progress" max="5" value="5"' in page
    assert "hx-trigger" not in page, "a finished run is not polled"
    assert "seeds.zip:seeds/000_a06f46bb5fdea414.txt" in page
    assert str(media) not in page, "no server paths in the report"
    assert "/companies/livejournal.com/20050622043445/" in page


def test_uploading_the_same_files_again_adds_nothing(importer_client, sample_dir):
    upload(importer_client, seeds_zip(sample_dir))
    upload(importer_client, seeds_zip(sample_dir))

    second = ImportRun.objects.order_by("pk").last()
    assert Snapshot.objects.count() == 5
    assert (second.present_count, second.new_count, second.status) == (5, 0, Status.SUCCEEDED)


def test_tar_gz_of_a_headerless_file_with_domain_and_date_overrides(importer_client):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("policies/headerless.md")
        data = b"# Policy\n\nWe collect nothing.\n"
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    upload(
        importer_client,
        SimpleUploadedFile("bundle.tar.gz", buffer.getvalue()),
        domain="Example.org",
        captured_at="2016-02-03",
    )

    run = ImportRun.objects.get()
    assert (run.domain_override, run.captured_at_override.isoformat()) == (
        "example.org",
        "2016-02-03T00:00:00+00:00",
    )
    snapshot = Snapshot.objects.get()
    assert (snapshot.company.slug, snapshot.timestamp) == ("example.org", "20160203000000")
    assert list(run.results.values_list("name", flat=True)) == [
        "bundle.tar.gz:policies/headerless.md"
    ]


def test_bad_files_are_reported_each_with_its_reason_failures_first(importer_client, sample_dir):
    seed = sorted((sample_dir / "seeds").iterdir())[0]
    files = [
        SimpleUploadedFile(seed.name, seed.read_bytes()),
        SimpleUploadedFile("empty.md", b""),
        SimpleUploadedFile("binary.txt", bytes(range(256)) * 40),
        SimpleUploadedFile("no-header.md", b"# A policy\n\nBut no header line.\n"),
        SimpleUploadedFile("broken.zip", b"PK\x03\x04 not a zip archive"),
    ]

    upload(importer_client, *files)

    run = ImportRun.objects.get()
    assert (run.status, run.failed_count, run.new_count) == (Status.COMPLETED_WITH_ERRORS, 4, 1)
    reasons = dict(run.results.filter(outcome=Outcome.FAILED).values_list("name", "reason"))
    assert set(reasons) == {"empty.md", "binary.txt", "no-header.md", "broken.zip"}
    assert all(reasons.values()), reasons
    assert "empty" in reasons["empty.md"]
    assert "binary" in reasons["binary.txt"]
    assert "header" in reasons["no-header.md"]
    assert "zip" in reasons["broken.zip"]

    page = importer_client.get(reverse("import_detail", args=[run.pk])).content.decode()
    report = page[page.index('id="import-report"') :]
    failed_rows = [report.index(name) for name in reasons]
    assert max(failed_rows) < report.index(seed.name), "failures come first"
    for name, reason in reasons.items():
        row = report[report.index(name) : report.index("</tr>", report.index(name))]
        assert form_wording(reason).replace("'", "&#x27;").replace('"', "&quot;") in row
    assert "4 files could not be imported" in page
    # The upload form's words, not the command line's.
    assert "--domain" in reasons["no-header.md"]
    assert "--" not in report
    assert "fill in the Domain and Capture date fields" in report
    csv_report = importer_client.get(reverse("import_report_csv", args=[run.pk]))
    csv_text = b"".join(csv_report.streaming_content).decode()
    assert "fill in the Domain and Capture date fields" in csv_text


def test_form_wording_names_the_fields():
    assert form_wording("missing header line; --captured-at is needed too to import a file") == (
        "missing header line; the Capture date field is needed too to import a file"
    )
    assert form_wording("no policy text after the header line") == (
        "no policy text after the header line"
    )


def test_too_many_files_is_a_form_message_not_an_error_page(client):
    # The CSRF middleware parses uploads before the view: check that path too.
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    token = client.get(reverse("import_new")).context["csrf_token"]
    files = [SimpleUploadedFile(f"p{n}.md", b"x") for n in range(101)]

    response = client.post(
        reverse("import_new"), {"files": files, "csrfmiddlewaretoken": str(token)}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Too many files: at most 100 per upload" in html
    assert 'id="id_files"' in html
    assert not ImportRun.objects.exists()


def test_oversize_upload_is_a_form_message(importer_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10_000

    response = upload(importer_client, SimpleUploadedFile("big.md", b"x" * 20_000))

    assert response.status_code == 400
    html = response.content.decode()
    assert "over the 9.8\xa0KB limit for one upload" in html
    assert 'id="upload-errors"' in html
    assert not ImportRun.objects.exists()


def test_form_shows_the_limits(importer_client):
    html = importer_client.get(reverse("import_new")).content.decode()

    assert "Up to 100 files and 256.0\xa0MB per upload" in html
    assert "up to 5.0\xa0MB" in html
    for element in ('id="id_files"', 'id="start-import"', "multiple", "js/imports.js"):
        assert element in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Choose at least one file to import."),
        ({"domain": "not a domain"}, "Domain:"),
        ({"captured_at": "2015-02-30"}, "Capture date:"),
    ],
)
def test_form_errors_are_listed_at_the_top(importer_client, sample_dir, fields, message):
    files = [] if not fields else [seeds_zip(sample_dir)]

    response = upload(importer_client, *files, **fields)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportRun.objects.exists()


def test_upload_without_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())

    response = client.post(reverse("import_new"), {"files": [SimpleUploadedFile("a.md", b"x")]})

    assert response.status_code == 403
    assert not ImportRun.objects.exists()


# --- permissions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        (REVIEWER, 403),
        (RESEARCHER, 403),
        (CURATOR, 403),
        (IMPORTER, 200),
        ("staff", 200),
    ],
)
def test_only_importers_and_staff_may_import(client, who, expected):
    if who == "staff":
        client.force_login(make_user("staff", role=None, is_staff=True))
    elif who != "anonymous":
        client.force_login(make_user(who.lower(), role=who))
    run = make_run(3)
    pages = [
        reverse("import_list"),
        reverse("import_new"),
        reverse("import_detail", args=[run.pk]),
        reverse("import_report_csv", args=[run.pk]),
    ]

    for url in pages:
        response = client.get(url)
        assert response.status_code == expected, url
        if who == "anonymous":
            assert response["Location"] == f"{reverse('login')}?next={url}"
    posts = [(reverse("import_new"), 400), (reverse("import_again", args=[run.pk]), 302)]
    for url, allowed in posts:
        status = client.post(url).status_code
        assert status == (allowed if expected == 200 else expected), url
    assert ImportRun.objects.count() == 1


@pytest.mark.parametrize(("role", "shown"), [(REVIEWER, False), (IMPORTER, True)])
def test_nav_links_to_imports_for_importers(client, role, shown):
    client.force_login(make_user(role=role))

    html = client.get("/").content.decode()

    assert (f'href="{reverse("import_list")}"' in html) is shown


# --- list, progress and report -------------------------------------------------------------


def test_list_shows_runs_newest_first(importer_client):
    older = make_run(2, user=make_user("someone", role=None))
    newer = make_run(1, status=Status.RUNNING, total_files=10, updated_at=timezone.now())

    html = importer_client.get(reverse("import_list")).content.decode()

    assert html.index(f">#{newer.pk}<") < html.index(f">#{older.pk}<")
    assert "1 of 10" in html
    assert "someone" in html
    assert "command line" in html


@pytest.mark.parametrize("runs", [1, 30])
def test_list_query_count_is_flat(client, django_assert_num_queries, runs):
    client.force_login(make_user())
    for _ in range(runs):
        make_run(5, user=make_user(f"u{ImportRun.objects.count()}", role=None))

    # session, user, the user's groups (role check), stale runs, count, runs with their users
    with django_assert_num_queries(6):
        response = client.get(reverse("import_list"))
    assert response.status_code == 200


@pytest.mark.parametrize("results", [10, 500])
def test_detail_query_count_is_flat(staff_client, django_assert_num_queries, results):
    run = make_run(results)

    # session, user, stale runs, the run (with its user and retry), count of results, the
    # review queue's size for the header (staff review), one page of results with their
    # captures and companies
    with django_assert_num_queries(7):
        response = staff_client.get(reverse("import_detail", args=[run.pk]))
    assert response.status_code == 200
    assert response.content.decode().count('<tr class="outcome-') == min(results, 200)


def test_polling_returns_the_progress_fragment_while_running(staff_client):
    run = make_run(3, status=Status.RUNNING, total_files=12, user=None)

    response = staff_client.get(reverse("import_detail", args=[run.pk]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="import-run"')
    assert "<html" not in html
    assert 'hx-trigger="every 1s"' in html
    assert '<progress id="import-progress" max="12" value="3">' in html
    assert 'id="import-report"' not in html


def test_polling_stops_with_the_report_when_finished(staff_client):
    run = make_run(3)

    response = staff_client.get(reverse("import_detail", args=[run.pk]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="import-run"')
    assert "hx-trigger" not in html
    assert 'id="import-report"' in html


def test_report_csv_escapes_formulas(staff_client):
    run = make_run()
    names = ["=HYPERLINK(1)", "+1", "-1", "@SUM(1)", "\tx", "\rx", "plain.md"]
    ImportFileResult.objects.bulk_create(
        ImportFileResult(run=run, position=n, name=name, outcome=Outcome.FAILED, reason="=1+1")
        for n, name in enumerate(names)
    )

    response = staff_client.get(reverse("import_report_csv", args=[run.pk]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["position", "file", "outcome", "reason"]
    assert [row[1] for row in rows[1:]] == [f"'{n}" for n in names[:-1]] + ["plain.md"]
    assert {row[3] for row in rows[1:]} == {"'=1+1"}


# --- workers: queued, stopped, run again ---------------------------------------------------


def test_stale_runs_are_marked_failed_with_what_they_imported(staff_client):
    dead = make_run(
        0, status=Status.RUNNING, files_read=500, new_count=500, total_files=900, user=None
    )
    ImportRun.objects.filter(pk=dead.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    alive = make_run(0, status=Status.RUNNING, files_read=20, updated_at=timezone.now())

    html = staff_client.get(reverse("import_detail", args=[dead.pk])).content.decode()

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, dead.message) == (Status.FAILED, "worker stopped; 500 files were imported")
    assert alive.status == Status.RUNNING
    assert "worker stopped; 500 files were imported" in html
    assert "Run again" not in html, "nothing to run again: the upload is not stored"


def test_run_again_is_refused_for_a_run_that_did_not_fail(staff_client):
    run = make_run(3, upload_dir="imports/1")

    response = staff_client.post(reverse("import_again", args=[run.pk]), follow=True)

    assert "cannot be run again" in response.content.decode()
    assert ImportRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_queued_upload_waits_for_the_database_worker(client, sample_dir, settings, media):
    settings.TASKS = DATABASE
    client.force_login(make_user())

    response = upload(client, seeds_zip(sample_dir))

    run = ImportRun.objects.get()
    assert run.status == Status.QUEUED
    assert (media / run.upload_dir).is_dir()
    html = client.get(response["Location"]).content.decode()
    assert "Waiting for the background worker to start it." in html
    assert "tell your administrator" in html
    assert f"Import #{run.pk} has been queued since" in html
    assert "manage.py" not in html
    assert 'hx-trigger="every 1s"' in html

    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)

    run.refresh_from_db()
    assert (run.status, run.total_files, run.files_read) == (Status.SUCCEEDED, 5, 5)
    assert Snapshot.objects.count() == 5


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_killed_worker_leaves_a_failed_run_that_runs_again_to_completion(client, settings, media):
    settings.TASKS = DATABASE
    client.force_login(make_user(role=None, is_staff=True))
    total = 3000
    upload(client, zip_upload("many.zip", generated_policies(total)))
    run = ImportRun.objects.get()
    assert run.status == Status.QUEUED

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay"],
        cwd=PROJECT,
        env={
            **os.environ,
            "DATABASE_URL": _database_url(),
            "MEDIA_ROOT": str(media),
            "TASKS_BACKEND": "database",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Kill it as soon as its first batch is committed: it is then inside the second.
        deadline = time.monotonic() + 120
        while run.files_read == 0 and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
            run.refresh_from_db()
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        _, errors = worker.communicate()
    assert worker.returncode == -signal.SIGKILL, errors.decode()

    run.refresh_from_db()
    imported = run.files_read
    assert run.status == Status.RUNNING
    assert 0 < imported < total
    assert Snapshot.objects.count() == imported == run.new_count
    assert run.results.count() == imported

    assert mark_stale_runs(timedelta(0)) == 1
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.message == f"worker stopped; {imported} files were imported"
    page = client.get(reverse("import_detail", args=[run.pk])).content.decode()
    assert 'id="run-again"' in page

    settings.TASKS = IMMEDIATE
    response = client.post(reverse("import_again", args=[run.pk]))

    again = ImportRun.objects.get(retry_of=run)
    assert response["Location"] == reverse("import_detail", args=[again.pk])
    assert again.status == Status.SUCCEEDED
    assert (again.total_files, again.files_read, again.failed_count) == (total, total, 0)
    assert (again.present_count, again.new_count) == (imported, total - imported)
    assert Snapshot.objects.count() == total
    assert Snapshot.objects.values("company", "captured_at").distinct().count() == total
    assert not (media / run.upload_dir).exists()
    page = client.get(reverse("import_detail", args=[run.pk])).content.decode()
    assert f'Run again as <a href="{reverse("import_detail", args=[again.pk])}"' in page


def test_a_finished_run_without_a_total_shows_no_moving_bar(importer_client):
    """A command-line import has no total: finished, it showed a bar moving to and fro."""
    run = make_run(results=3, total_files=None)
    html = importer_client.get(reverse("import_detail", args=[run.pk])).content.decode()
    assert "<progress" not in html
    assert "3 files done" in html
