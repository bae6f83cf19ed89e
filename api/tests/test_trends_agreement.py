"""The trends and campaigns' agreement figures through the API, and JSON answers for every path
and method under /api/."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from annotations.campaigns.adjudication import agreement
from api.tests.contract import assert_matches_schema, openapi
from policies.trends.trends import TrendFilters, corpus_trends

AGREEMENT = "/api/v1/campaigns/study/agreement"


def test_trends_are_the_pages_figures(client, bearer, history):
    body = client.get("/api/v1/trends?q=advertisers", **bearer).json()
    expected = corpus_trends(TrendFilters(queries=("advertisers",)))
    assert [s["season"] for s in body["seasons"]] == ["2018-A", "2018-B", "2019-A"]
    first = body["seasons"][0]
    assert (first["captures"], first["companies"], first["words_median"]) == (
        1,
        1,
        expected.seasons[0].words_median,
    )
    # 2019-A: two captures, one policy (the last, which mentions advertisers).
    assert body["seasons"][2]["captures"] == 2
    assert body["queries"][0]["points"][2] == {"season": "2019-A", "count": 1, "of": 1, "share": 1}
    assert body["csv_url"].endswith("/trends.csv?q=advertisers")


def test_agreement_figures_are_the_pages(client, curator_bearer, study):
    response = client.get(AGREEMENT, **curator_bearer)
    assert response.status_code == 200, response.content
    assert_matches_schema(response)
    body = response.json()
    rows, _ = agreement(study)
    assert [{k: r[k] for k in asdict(rows[0])} for r in body["rows"]] == [asdict(r) for r in rows]
    by_category = {r["category"]: r for r in body["rows"]}
    # Both tagged sharing in the one finished unit that holds it: they agree everywhere.
    assert by_category["third-party-sharing-collection"]["percent_agreement"] == 1.0
    assert by_category["all"]["name"] == "All categories"
    assert body["html_url"].endswith("/campaigns/study/agreement/?unit=section")


@pytest.mark.parametrize(
    ("url", "who", "status", "parameter"),
    [
        (AGREEMENT, "anonymous", 401, None),
        (AGREEMENT, "researcher", 403, None),
        (f"{AGREEMENT}?unit=page", "curator", 400, "unit"),
        ("/api/v1/campaigns/nothing/agreement", "curator", 404, None),
    ],
)
def test_agreement_refusals(client, request, study, url, who, status, parameter):
    headers = {
        "anonymous": {},
        "researcher": request.getfixturevalue("bearer"),
        "curator": request.getfixturevalue("curator_bearer"),
    }[who]
    response = client.get(url, **headers)
    assert response.status_code == status
    assert response.json()["parameter"] == parameter
    assert_matches_schema(response)


def _is_problem(response) -> None:
    from jsonschema import Draft202012Validator

    assert response["Content-Type"].startswith("application/json")
    problem = openapi()["components"]["schemas"]["Problem"]
    assert list(Draft202012Validator(problem).iter_errors(response.json())) == []
    assert response.json()["message"]


@pytest.mark.parametrize(
    "path", ["/api/", "/api/v2/companies", "/api/v1/nothing", "/api/v1/companies/x/nothing/more"]
)
def test_unknown_api_paths_are_json_404s(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    _is_problem(response)


def test_other_methods_are_json_405s(client, history):
    for path in ("/api/v1/companies", "/api/v1/trends"):
        response = client.post(path)
        assert response.status_code == 405
        assert response["Allow"] == "GET"
        _is_problem(response)
    assert client.post("/api/v9/anything").status_code == 404
