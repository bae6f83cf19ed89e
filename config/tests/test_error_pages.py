"""What a visitor sees of an error with DEBUG off (as in production): a Palimpsest page that
says what happened in words, never a traceback, a file path or an exception's internals; and
the log gets one line for an answer (400, 403), the traceback only for a failure (500)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from annotations.campaigns.campaigns import CampaignSpec, create_campaign
from annotations.tests.factories import make_user
from policies.permissions import CURATOR, RESEARCHER, REVIEWER
from policies.tests.factories import make_company, make_snapshot

pytestmark = pytest.mark.django_db

LEAKS = ("Traceback", 'File "', "line 42", "secret internal", "RuntimeError", "Http404")


def _assert_clean(response, status: int, heading: str) -> str:
    page = response.content.decode()
    assert response.status_code == status
    assert f"<h1>{heading}</h1>" in page
    assert not [leak for leak in LEAKS if leak in page]
    return page


def test_a_refused_page_names_the_role_and_logs_one_line(client, caplog):
    client.force_login(make_user("rhea", RESEARCHER))
    with caplog.at_level(logging.WARNING):
        page = _assert_clean(client.get(reverse("review_list")), 403, "Not allowed")
    assert "needs the Reviewer or Curator roles" in page
    assert "Ask a site administrator" in page
    assert [r.getMessage() for r in caplog.records] == ["Forbidden (Permission denied): /review/"]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_bad_request_says_what_was_wrong_and_logs_one_line(client, caplog):
    company = make_company(slug="acme.example")
    make_snapshot(company)
    make_user("ann", REVIEWER)
    create_campaign(
        CampaignSpec(slug="study", annotators=["ann"], per_capture=1, companies=[company.slug])
    )
    client.force_login(make_user("cora", CURATOR))
    url = reverse("campaign_agreement", args=["study"])
    with caplog.at_level(logging.WARNING):
        page = _assert_clean(client.get(url, {"unit": "paragraph"}), 400, "Bad request")
    assert "unit: expected section or clause (got &#x27;paragraph&#x27;)" in page
    assert "cora" in page  # the page knows who is signed in (the header)
    assert all(r.exc_info is None for r in caplog.records)


def test_a_suspicious_request_gets_the_400_page_without_its_message(caplog):
    with caplog.at_level(logging.ERROR):
        response = Client().get("/", HTTP_HOST="evil.example")
    page = _assert_clean(response, 400, "Bad request")
    assert "evil.example" not in page
    assert "could not be understood." in page


def test_a_missing_page_says_so_without_the_lookup(client):
    page = _assert_clean(
        client.get(reverse("company_detail", args=["no-such.example"])), 404, "Not found"
    )
    assert "No Company matches" not in page


def test_a_failure_shows_the_plain_500_page(settings, caplog):
    settings.ROOT_URLCONF = "config.tests.error_urls"
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR):
        response = client.get("/test-failure/")
    _assert_clean(response, 500, "Something went wrong")
    assert [r.exc_info is not None for r in caplog.records] == [True]  # the log has it


def test_under_debug_a_refusal_is_printed_once_without_a_traceback():
    """Django's console handler (on under DEBUG) used to print each django.* record a second
    time next to the root's: `make run` showed two tracebacks for one 403."""
    root = Path(__file__).resolve().parents[2]
    script = (
        "import django, logging, sys; django.setup();"
        "from django.core.exceptions import PermissionDenied\n"
        "try:\n    raise PermissionDenied('no')\n"
        "except PermissionDenied:\n"
        "    logging.getLogger('django.request').warning("
        "'Forbidden (Permission denied): %s', '/review/', exc_info=sys.exc_info(),"
        " extra={'status_code': 403})\n"
    )
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["Forbidden (Permission denied): /review/"]
