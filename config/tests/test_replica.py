"""The read replica's router (config/replica.py), with two database aliases: "replica" is a
test mirror of the default database on its own connection, so it sees only committed rows,
as a replica sees only what it has replayed. A row made inside a test's transaction is thus on
the primary and not yet on the replica, which tells where each read went."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import connections, router, transaction
from django.http import HttpRequest, JsonResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from config.replica import ReplicaReadsMiddleware, ReplicaRouter
from policies.models import Company, StoredPage
from policies.pagecache import forget_in_memory
from policies.tests.factories import make_company, make_snapshot

pytestmark = pytest.mark.postgres
BOTH = ["default", "replica"]


@pytest.fixture(autouse=True)
def _replica(settings):
    settings.REPLICA_DATABASE = "replica"


def _acme() -> Company:
    company = make_company(slug="acme.example", name="Acme")
    make_snapshot(company, captured_at=datetime(2018, 1, 1, tzinfo=UTC))
    return company


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.mark.django_db(databases=BOTH)
def test_an_anonymous_page_reads_from_the_replica(client):
    _acme()  # on the primary only: the test's transaction is not committed
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        page = client.get("/")
    assert page.status_code == 200
    assert on_replica.captured_queries
    assert b"acme.example" not in page.content  # the replica has not replayed it yet


@pytest.mark.django_db(databases=BOTH)
def test_a_signed_in_visitor_reads_from_the_primary(client):
    _acme()
    client.cookies["sessionid"] = "not-a-session"  # any session cookie: not anonymous
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        page = client.get("/")
    assert page.status_code == 200
    assert not on_replica.captured_queries
    assert b"acme.example" in page.content


@pytest.mark.parametrize(
    ("method", "cookies", "headers", "reads_from"),
    [
        ("get", {}, {}, "replica"),
        ("head", {}, {}, "replica"),
        ("post", {}, {}, "default"),
        ("get", {"sessionid": "x"}, {}, "default"),
        ("get", {}, {"Authorization": "Bearer token"}, "default"),
    ],
)
def test_only_anonymous_reading_requests_may_read_the_replica(method, cookies, headers, reads_from):
    request = getattr(RequestFactory(), method)("/", headers=headers)
    request.COOKIES.update(cookies)
    seen = []
    ReplicaReadsMiddleware(lambda r: seen.append(router.db_for_read(Company)) or JsonResponse({}))(
        request
    )
    assert seen == [reads_from]
    assert router.db_for_read(Company) == "default"  # after the request: no trace left


@pytest.mark.django_db(databases=BOTH)
def test_a_request_that_writes_reads_its_own_writes_from_the_primary():
    _acme()

    def view(request: HttpRequest) -> JsonResponse:
        before = Company.objects.filter(slug="acme.example").exists()  # the replica
        Company.objects.create(slug="new.example", name="New")  # the primary, always
        return JsonResponse(
            {
                "before": before,
                "own write": Company.objects.filter(slug="new.example").exists(),
                "acme after": Company.objects.filter(slug="acme.example").exists(),
            }
        )

    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = ReplicaReadsMiddleware(view)(RequestFactory().get("/"))
    assert json.loads(response.content) == {"before": False, "own write": True, "acme after": True}
    assert len(on_replica.captured_queries) == 1
    assert _writes(on_replica) == []


@pytest.mark.django_db(databases=BOTH)
def test_reads_inside_a_transaction_the_request_opened_go_to_the_primary():
    _acme()

    def view(request: HttpRequest) -> JsonResponse:
        with transaction.atomic():
            inside = Company.objects.filter(slug="acme.example").exists()
        return JsonResponse({"inside": inside})

    response = ReplicaReadsMiddleware(view)(RequestFactory().get("/"))
    assert json.loads(response.content) == {"inside": True}


@pytest.mark.django_db(databases=BOTH, transaction=True)
def test_writes_never_go_to_the_replica(client, settings):
    settings.STORED_PAGES = True
    forget_in_memory()
    company = _acme()  # committed: on both
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        first = client.get(company.get_absolute_url())
        second = client.get(company.get_absolute_url())
    assert first.status_code == second.status_code == 200
    assert on_replica.captured_queries  # the page was rendered from the replica
    assert _writes(on_replica) == []
    assert any("policies_storedpage" in sql for sql in _writes(on_primary))  # stored
    assert StoredPage.objects.filter(company=company).count() == 1


@pytest.mark.django_db(databases=BOTH, transaction=True)
def test_a_page_rendered_from_a_replica_behind_its_primary_is_not_stored(client, settings):
    settings.STORED_PAGES = True
    forget_in_memory()
    company = _acme()
    with transaction.atomic():  # a change the replica has not replayed yet
        Company.objects.pages_changed([company.pk])
        page = client.get(company.get_absolute_url())
        assert page.status_code == 200
        # Rendered from the replica's older rows: stored under the new version's key it would
        # be served as current until the company's next change.
        assert not StoredPage.objects.filter(company=company).exists()
    assert client.get(company.get_absolute_url()).status_code == 200
    assert StoredPage.objects.filter(company=company).count() == 1  # caught up: stored


def test_migrations_run_on_the_primary_only():
    assert ReplicaRouter().allow_migrate("replica", "policies") is False
    assert ReplicaRouter().allow_migrate("default", "policies") is None
