"""Each caller gets API_RATE_LIMIT requests a minute, then 429 with Retry-After; the counts are
in the database, shared by every worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from api.access import count_request
from api.models import RateWindow
from api.tokens import issue_token

URL = "/api/v1/companies"


def test_past_the_limit_a_token_gets_429_with_retry_after(client, bearer, history, settings):
    settings.API_RATE_LIMIT = 3
    assert [client.get(URL, **bearer).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(URL, **bearer)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "at most 3 a minute" in refused.json()["message"]


def test_each_token_has_its_own_count(client, bearer, researcher, history, settings):
    settings.API_RATE_LIMIT = 1
    other = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(researcher)[1]}"}
    assert client.get(URL, **bearer).status_code == 200
    assert client.get(URL, **bearer).status_code == 429
    assert client.get(URL, **other).status_code == 200


def test_anonymous_callers_are_counted_by_address(client, history, settings):
    settings.API_RATE_LIMIT = 1
    assert client.get(URL, REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get(URL, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get(URL, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_wrong_token_is_refused_before_it_is_counted(client, history, settings):
    settings.API_RATE_LIMIT = 1
    for _ in range(3):
        assert client.get(URL, HTTP_AUTHORIZATION="Bearer pal_wrong").status_code == 401
    assert client.get(URL).status_code == 200


def test_the_count_lives_in_the_database(client, bearer, token, history, settings):
    settings.API_RATE_LIMIT = 2
    client.get(URL, **bearer)
    client.get(URL, **bearer)
    (row,) = RateWindow.objects.all()
    assert row.count == 2
    # A worker that has never seen this caller (nothing in its memory) still refuses it.
    assert Client().get(URL, **bearer).status_code == 429


def test_a_new_minute_starts_the_count_again(db):
    assert [count_request("token:1", 100) for _ in range(3)] == [1, 2, 3]
    assert count_request("token:1", 101) == 1
    assert count_request("token:2", 101) == 1
    assert RateWindow.objects.count() == 2  # one row per caller, nothing to sweep


def test_counting_does_not_wait_for_the_disk_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    # The test runs in a transaction, so the statement's local setting is still visible.
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
        assert count_request("token:1", 100) == 1
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"


_WORKER = """
import django, sys
django.setup()
from api.access import count_request
print(count_request("token:7", 5), count_request("token:7", 5))
"""


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="another process needs a shared database"
)
def test_separate_worker_processes_share_one_count(transactional_db):
    # Another process, like another gunicorn worker, with its own connection and memory.
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    assert count_request("token:7", 5) == 1
    worker = subprocess.run(
        [sys.executable, "-c", _WORKER],
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert worker.stdout.split() == ["2", "3"]
    assert count_request("token:7", 5) == 4
