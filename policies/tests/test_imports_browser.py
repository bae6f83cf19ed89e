"""Uploading from the browser, in Debian's Chromium, as an Importer signed in through the form.

The upload goes through the real page: the file input gets a .zip built in tmp_path, the script
lists it before upload, and the form posts it. The import task runs inside the request (Django's
immediate backend; changing `settings.TASKS` resets the shared task-backend handler, so the live
server thread sees it too), so the run's page is already finished when the browser lands on it.
Screenshots land in screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.tasks import task_backends
from playwright.sync_api import Page, expect

from annotations.tests.factories import make_user
from policies.models import ImportFileResult, ImportRun, Snapshot
from policies.permissions import IMPORTER
from policies.tests.browser import restore_migrated_rows, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def importer(settings, tmp_path) -> str:
    """An Importer's username; tasks run in the request and uploads are stored in tmp_path."""
    settings.TASKS = IMMEDIATE
    settings.MEDIA_ROOT = tmp_path / "media"
    assert type(task_backends["default"]).__name__ == "ImmediateBackend"
    restore_migrated_rows()
    make_user("ida", IMPORTER)
    return "ida"


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def _upload(page: Page, archive: Path) -> None:
    """Choose the archive on /imports/new/, see it listed, start the import, land on the run."""
    page.goto(page.base_url + "/imports/new/")
    expect(page.locator("#file-summary")).to_be_hidden()
    page.set_input_files("#id_files", archive)
    expect(page.locator("#file-summary")).to_be_visible()
    expect(page.locator("#file-count")).to_contain_text("1 file, ")
    expect(page.locator("#file-list li")).to_have_count(1)
    expect(page.locator("#file-list li").first).to_contain_text(archive.name)
    expect(page.locator("#file-list li.error")).to_have_count(0)


def _wait_for_report(page: Page, total: int) -> int:
    """Wait for the run's report and its progress bar to be done; the run's id."""
    expect(page).to_have_url(re.compile(r"/imports/(\d+)/$"))
    run_id = int(re.search(r"/imports/(\d+)/$", page.url).group(1))
    expect(page.locator("#import-report")).to_be_visible()
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("max", str(total))
    expect(progress).to_have_attribute("value", str(total))
    expect(page.locator(".import-progress")).to_contain_text(f"{total} of {total} files done")
    # Finished: the page no longer polls.
    expect(page.locator("#import-run")).not_to_have_attribute("hx-get", re.compile(".*"))
    return run_id


def _counts(page: Page) -> dict[str, str]:
    items = page.locator("ul.import-counts li").all_inner_texts()
    return {text.split(maxsplit=1)[1]: text.split(maxsplit=1)[0] for text in items}


def test_importer_uploads_a_zip_and_reads_the_report(
    page, importer, sample_dir, tmp_path, screenshot_dir
):
    seeds = sorted((sample_dir / "seeds").iterdir())
    assert len(seeds) == 5
    archive = _zip(tmp_path / "seeds.zip", {p.name: p.read_bytes() for p in seeds})
    sign_in(page, importer)

    _upload(page, archive)
    page.screenshot(path=screenshot_dir / "import-new.png", full_page=True)
    page.locator("#start-import").click()

    run_id = _wait_for_report(page, total=5)
    expect(page.locator("#import-status")).to_have_text(re.compile(r"^succeeded$", re.I))
    assert _counts(page) == {"new": "5", "unchanged": "0", "already present": "0", "failed": "0"}
    rows = page.locator("#import-report tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#import-report tbody tr.outcome-new")).to_have_count(5)
    # Named as uploaded, archive member after the archive; no server paths.
    names = rows.locator(".file-name").all_inner_texts()
    assert names == [f"seeds.zip:{p.name}" for p in seeds]
    # Every row links to its capture, and the links work.
    links = rows.locator("td:last-child a")
    expect(links).to_have_count(5)
    assert Snapshot.objects.count() == 5
    expected = sorted(s.get_absolute_url() for s in Snapshot.objects.all())
    assert sorted(links.evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")) == expected
    page.screenshot(path=screenshot_dir / "import-report.png", full_page=True)

    # The CSV report, fetched with the signed-in session.
    download = page.get_by_role("link", name="Download report (CSV)")
    href = download.get_attribute("href")
    assert href == f"/imports/{run_id}/report.csv"
    response = page.request.get(page.base_url + href)
    assert response.ok
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="import-{run_id}-report.csv"' in response.headers["content-disposition"]
    report = list(csv.DictReader(io.StringIO(response.text())))
    assert [row["outcome"] for row in report] == ["New"] * 5
    assert [row["file"] for row in report] == names
    assert sorted(row["capture_url"] for row in report) == expected

    # The first capture link opens the capture.
    first_href = links.first.get_attribute("href")
    links.first.click()
    expect(page).to_have_url(page.base_url + first_href)
    expect(page.locator("#policy")).to_be_visible()
    run = ImportRun.objects.get(pk=run_id)
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.user.username == importer
    assert not (tmp_path / "media" / "imports" / str(run_id)).exists()  # upload cleaned up
    assert page.dialogs == []
    assert page.console_errors == []


def test_a_failed_file_is_reported_first_with_its_reason(page, importer, sample_dir, tmp_path):
    good = sorted((sample_dir / "seeds").iterdir())[0]
    # The bad file comes second in the archive; the report still lists it first.
    archive = _zip(tmp_path / "mixed.zip", {good.name: good.read_bytes(), "empty.md": b""})
    sign_in(page, importer)

    _upload(page, archive)
    page.locator("#start-import").click()

    _wait_for_report(page, total=2)
    expect(page.locator("#import-status")).to_have_text(
        re.compile(r"^completed with errors$", re.I)
    )
    assert _counts(page) == {"new": "1", "unchanged": "0", "already present": "0", "failed": "1"}
    expect(page.locator("p.form-errors[role=alert]")).to_contain_text(
        "1 file could not be imported; it is listed first, each with the reason."
    )
    rows = page.locator("#import-report tbody tr")
    expect(rows).to_have_count(2)
    first, second = rows.nth(0), rows.nth(1)
    expect(first).to_have_class("outcome-failed")
    expect(first.locator(".file-name")).to_have_text("mixed.zip:empty.md")
    expect(first.locator(".num")).to_have_text("2")  # its place in the upload
    failed = ImportFileResult.objects.get(outcome=ImportFileResult.Outcome.FAILED)
    assert failed.reason
    expect(first.locator(".reason")).to_have_text(failed.reason)
    expect(second).to_have_class("outcome-new")
    expect(second.locator(".file-name")).to_have_text(f"mixed.zip:{good.name}")
    expect(second.locator("td:last-child a")).to_have_count(1)
    assert page.dialogs == []
    assert page.console_errors == []
