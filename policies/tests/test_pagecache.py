"""Stored pages: a company's pages are served again without rendering until what they show
changes; conditional requests; no cookie and a shared-cache-friendly answer for anonymous
visitors. (Tags and campaigns invalidating them: annotations/tests/test_pagecache.py.)"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.urls import reverse

from config.tests.test_security_headers import check_headers
from policies import pagecache
from policies.importing.importer import import_paths
from policies.models import Company, PolicyText, SiteVersion, StoredPage
from policies.pagecache import forget_in_memory
from policies.reading.reader import refresh_texts
from policies.tests.factories import make_company, make_snapshot, write_policy

pytestmark = pytest.mark.django_db

BODY = "# Title\n\nWe collect data.\n\n## Sharing\n\nWe share it.\n"


@pytest.fixture
def company() -> Company:
    company = make_company(slug="acme.example", name="Acme")
    for year, words in [(2018, "data"), (2019, "your data")]:
        make_snapshot(
            company,
            captured_at=datetime(year, 1, 1, tzinfo=UTC),
            body=BODY.replace("data", words),
        )
    return company


def _pages(company: Company) -> list[str]:
    old, new = company.snapshots.order_by("captured_at")
    return [
        company.get_absolute_url(),
        new.get_absolute_url(),
        reverse("compare", args=[company.slug, old.timestamp, new.timestamp]),
        reverse("compare", args=[company.slug, old.timestamp, new.timestamp]) + "?changes=only",
    ]


def _without_nonce(response) -> bytes:
    """The body with its CSP nonce (one per response) blanked out."""
    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    return response.content.replace(nonce.encode(), b"NONCE")


def test_a_second_visit_is_served_from_storage_with_one_query(
    client, company, django_assert_num_queries
):
    for url in _pages(company):
        first = client.get(url)
        assert first.status_code == 200
        # the company's id and page version; the page itself is in this process's memory
        with django_assert_num_queries(1):
            again = client.get(url)
        assert _without_nonce(again) == _without_nonce(first)
        assert again["ETag"] == first["ETag"]


def test_another_process_reads_the_stored_page(client, company, django_assert_num_queries):
    url = company.get_absolute_url()
    first = client.get(url)
    forget_in_memory()  # as a second gunicorn worker would find it
    # the company's version, the stored page
    with django_assert_num_queries(2):
        again = client.get(url)
    assert _without_nonce(again) == _without_nonce(first)


def test_if_none_match_answers_304_without_rendering(client, company, django_assert_num_queries):
    for url in _pages(company):
        etag = client.get(url)["ETag"]
        forget_in_memory()
        # the company's version only: neither the page nor its data is read
        with django_assert_num_queries(1):
            response = client.get(url, headers={"If-None-Match": etag})
        assert response.status_code == 304
        assert response["ETag"] == etag
        assert response.content == b""
        assert client.get(url, headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_anonymous_pages_set_no_cookie_and_may_be_kept_by_shared_caches(client, company):
    for url in _pages(company):
        for response in (client.get(url), client.get(url)):
            assert response.status_code == 200
            assert not response.cookies, url
            assert "Set-Cookie" not in response
            assert response["Cache-Control"] == "public, no-cache"
            assert {"Cookie", "HX-Request"} <= {v.strip() for v in response["Vary"].split(",")}
            assert "csrfmiddlewaretoken" not in response.content.decode()
            assert "X-CSRFToken" not in response.content.decode()
    assert not client.cookies


def test_a_stored_page_carries_the_nonce_of_its_own_response(client, company):
    url = _pages(company)[1]
    first, second = client.get(url), client.get(url)
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]
    assert check_headers(first) == []
    assert check_headers(second) == []


def test_a_new_capture_of_the_company_shows_on_the_next_request(client, company, tmp_path):
    before = client.get(company.get_absolute_url()).content.decode()
    assert before.count('id="capture-') == 2
    write_policy(tmp_path, "acme.example", "20200101000000", BODY.replace("data", "all data"))
    import_paths([tmp_path])
    after = client.get(company.get_absolute_url()).content.decode()
    assert after.count('id="capture-') == 3
    # the older capture's page links to the new one
    newest = company.snapshots.order_by("captured_at")[1]
    assert "2020-01-01" in client.get(newest.get_absolute_url()).content.decode()


def test_a_text_refresh_serves_the_pages_anew(client, company):
    url = company.get_absolute_url()
    etag = client.get(url)["ETag"]
    PolicyText.objects.update(text_version=0)
    refresh_texts()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    assert client.get(url)["ETag"] != etag


def test_pages_changed_drops_only_the_companys_stored_pages(client, company):
    other = make_company(slug="other.example")
    make_snapshot(other)
    client.get(company.get_absolute_url())
    client.get(other.get_absolute_url())
    assert StoredPage.objects.count() == 2
    version = Company.objects.get(pk=company.pk).page_version
    Company.objects.pages_changed([company.pk])
    assert list(StoredPage.objects.values_list("company__slug", flat=True)) == ["other.example"]
    assert Company.objects.get(pk=company.pk).page_version == version + 1


def test_a_waiting_message_is_shown_once_and_never_stored(client, company):
    # no capture on that day: redirected to the nearest, with a message
    response = client.get(f"/companies/{company.slug}/2019-01-05/", follow=True)
    assert "has no capture on 2019-01-05" in response.content.decode()
    again = client.get(response.request["PATH_INFO"]).content.decode()
    assert "has no capture on" not in again


def test_htmx_requests_and_unknown_parameters_are_rendered_not_stored(client, company):
    old, new = company.snapshots.order_by("captured_at")
    url = reverse("compare", args=[company.slug, old.timestamp, new.timestamp])
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "comparison"})
    assert fragment.status_code == 200
    assert "HX-Push-Url" in fragment
    assert client.get(company.get_absolute_url() + "?utm=x").status_code == 200
    assert client.get(url + "?changes=everything").status_code == 200
    assert not StoredPage.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_listening_process_asks_for_a_version_once_until_a_change_is_committed(
    client, company, settings, django_assert_num_queries
):
    settings.STORED_PAGES_LISTEN = True
    company.refresh_from_db()
    versions = pagecache._Versions()
    try:
        versions._start_listening()
        _wait_for(lambda: versions.listening)
        site = SiteVersion.objects.get().version
        assert versions.lookup(company.slug) == (company.pk, company.page_version, site)
        with django_assert_num_queries(0):
            assert versions.lookup(company.slug) == (company.pk, company.page_version, site)
        generation = versions.generation
        with transaction.atomic():
            Company.objects.pages_changed([company.pk])
        _wait_for(lambda: versions.generation > generation)  # the notification came
        # the site version follows the commit, and its own notification
        _wait_for(lambda: versions.lookup(company.slug)[2] == site + 1)
        assert versions.lookup(company.slug) == (company.pk, company.page_version + 1, site + 1)
    finally:
        versions.stop.set()
        versions.thread.join(timeout=10)
    assert not versions.thread.is_alive()


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_site_version_follows_a_change_once_it_is_committed(
    django_capture_on_commit_callbacks,
):
    site = SiteVersion.objects.get().version
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            _changed_then_rolled_back()
        assert SiteVersion.objects.get().version == site  # not before the commit
    assert SiteVersion.objects.get().version == site  # rolled back: nothing to bump
    with django_capture_on_commit_callbacks(execute=True):
        Company.objects.pages_changed([make_company(slug="other.example").pk])
        assert SiteVersion.objects.get().version == site
    assert SiteVersion.objects.get().version > site


def _changed_then_rolled_back() -> None:
    with transaction.atomic():
        Company.objects.pages_changed()
        raise RuntimeError
