"""Shared pytest setup: PostgreSQL-only tests, test settings, a real Chromium for browser tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import settings as hypothesis_settings

from policies.pagecache import forget_in_memory

# Property tests check what a function returns, not how fast: hypothesis's 200 ms deadline per
# example fails on a busy two-core machine (speed goals live in bench/).
hypothesis_settings.register_profile("palimpsest", deadline=None)
hypothesis_settings.load_profile("palimpsest")

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def pytest_configure(config):
    # Before any server starts: SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the live
    # server loads its middleware, so a per-test override would come too late for it.
    settings.SECURE_SSL_REDIRECT = False
    # A read replica alias, a test mirror of the default database (its own connection, so it
    # sees only committed rows, like a replica behind its primary). Reads go to it only in tests
    # that set REPLICA_DATABASE and allow it (config/tests/test_replica.py).
    if "replica" not in settings.DATABASES:
        settings.DATABASES["replica"] = {
            **settings.DATABASES["default"],
            "TEST": {"MIRROR": "default"},
        }


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL to a postgres:// URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _test_settings(settings):  # noqa: F811 (pytest-django's settings fixture)
    # Production defaults (HTTPS redirect, hashed static names) get in the way of plain HTTP
    # tests; the deploy checks run against the real production settings separately.
    settings.SECURE_SSL_REDIRECT = False
    # Hashing test passwords with PBKDF2 costs about a second per user on this machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Stored pages live on in this process's memory; a rolled-back database reuses their keys.
    # No listening connection: it would keep the test database from being dropped.
    settings.STORED_PAGES_LISTEN = False
    settings.REPLICA_DATABASE = None
    forget_in_memory()


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium to run browser tests")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page that records JavaScript dialogs (`page.dialogs`) and console errors
    (`page.console_errors`) for the test to assert on."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.console_errors = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console",
        lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
