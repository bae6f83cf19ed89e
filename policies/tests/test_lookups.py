"""`any_of`: the same rows as `in`, on PostgreSQL as one array parameter."""

import pytest
from django.db import connection

from policies.models import Company
from policies.tests.factories import make_company

pytestmark = pytest.mark.django_db


@pytest.fixture
def companies():
    return [make_company(slug=f"c{n}.example") for n in range(5)]


def test_any_of_finds_what_in_finds(companies):
    ids = [companies[0].pk, companies[3].pk, 10**9]
    slugs = ["c1.example", "c4.example", "missing.example"]

    assert set(Company.objects.filter(pk__any_of=ids)) == set(Company.objects.filter(pk__in=ids))
    assert {c.slug for c in Company.objects.filter(slug__any_of=slugs)} == {
        "c1.example",
        "c4.example",
    }
    assert set(Company.objects.exclude(pk__any_of=ids)) == set(Company.objects.exclude(pk__in=ids))


def test_any_of_an_empty_list_finds_nothing(companies):
    assert not Company.objects.filter(pk__any_of=[]).exists()
    assert Company.objects.exclude(pk__any_of=[]).count() == 5


def test_any_of_sends_one_parameter_on_postgresql(companies):
    ids = [c.pk for c in companies] * 200  # 1,000 values
    query = Company.objects.filter(pk__any_of=ids)
    sql, params = query.query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s::bigint[])" in sql
        assert len(params) == 1
    else:
        assert " IN (" in sql
    assert query.count() == 5
