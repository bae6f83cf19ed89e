"""Every endpoint and every error answers as the published OpenAPI schema says."""

from __future__ import annotations

import pytest

from api.tests.contract import assert_matches_schema, openapi

COMPANY = "/api/v1/companies/example.com"
OK = [
    "/api/v1/companies",
    "/api/v1/companies?q=exam&limit=1",
    "/api/v1/companies?domain=example.com",
    COMPANY,
    f"{COMPANY}/captures",
    f"{COMPANY}/policy?at=2019-03-04",
    f"{COMPANY}/policy?at=2019-03-04&html=1",
    f"{COMPANY}/captures/20190304000000",
    f"{COMPANY}/captures/2018-01-02?html=true",
    f"{COMPANY}/compare/2018-01-02/20190304000000",
    "/api/v1/tags?company=example.com&status=any",
    "/api/v1/search?q=advertisers",
    "/api/v1/trends",
    "/api/v1/trends?q=advertisers&q=%22email+address%22&company=example.com&from=2018&to=2019",
]
ERRORS = [
    ("/api/v1/companies?limit=0", 400, "limit"),
    ("/api/v1/companies?limit=many", 400, "limit"),
    ("/api/v1/companies?cursor=not-a-cursor", 400, "cursor"),
    (f"{COMPANY}/policy?at=2019-13-45", 400, "at"),
    (f"{COMPANY}/policy?at=2017-12-31", 404, "at"),
    (f"{COMPANY}/captures/yesterday", 400, "capture"),
    (f"{COMPANY}/captures/2001-01-01", 404, None),
    (f"{COMPANY}/compare/2018-01-02/x", 400, "new"),
    ("/api/v1/companies/nobody.example", 404, None),
    ("/api/v1/companies/nobody.example/captures", 404, None),
    ("/api/v1/tags?from=soon", 400, "from"),
    ("/api/v1/tags?status=lost", 400, "status"),
    ("/api/v1/tags?company=nobody.example", 400, "company"),
    ("/api/v1/search?q=", 400, "q"),
    ("/api/v1/search?q=data&to=never", 400, "to"),
    ("/api/v1/trends?company=nobody.example", 400, "company"),
    ("/api/v1/trends?from=soon", 400, "from"),
    ("/api/v1/trends?latest=1", 400, "latest"),
    ("/api/v1/trends?q=%21%21%21", 400, "q"),
    ("/api/v1/trends?q=a&q=b&q=c&q=d&q=e", 400, "q"),
]


def test_the_schema_is_openapi_with_every_endpoint(db):
    schema = openapi()
    assert schema["openapi"].startswith("3.")
    assert len(schema["paths"]) == 10
    assert "BearerToken" in schema["components"]["securitySchemes"]


@pytest.mark.parametrize("url", OK)
def test_every_endpoint_matches_the_schema(client, bearer, tagged, url):
    response = client.get(url, **bearer)
    assert response.status_code == 200, response.content
    assert_matches_schema(response)


@pytest.mark.parametrize(("url", "status", "parameter"), ERRORS)
def test_every_error_is_json_naming_the_parameter(client, bearer, history, url, status, parameter):
    response = client.get(url, **bearer)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"]
    assert response.json()["parameter"] == parameter
    assert_matches_schema(response)


def test_refusals_match_the_schema(client, history, bearer, settings):
    unauthorised = client.get("/api/v1/companies", HTTP_AUTHORIZATION="Bearer pal_wrong")
    anonymous_tags = client.get("/api/v1/tags")
    settings.API_RATE_LIMIT = 1
    client.get("/api/v1/companies", **bearer)
    throttled = client.get("/api/v1/companies", **bearer)
    for response, status in [(unauthorised, 401), (anonymous_tags, 401), (throttled, 429)]:
        assert response.status_code == status
        assert_matches_schema(response)


def test_tags_without_the_export_role_are_forbidden(client, history):
    from annotations.tests.factories import make_user
    from policies.permissions import REVIEWER

    client.force_login(make_user("rev", REVIEWER))
    response = client.get("/api/v1/tags")
    assert response.status_code == 403
    assert_matches_schema(response)


def test_the_policy_404_gives_the_first_capture_date(client, history):
    body = client.get(f"{COMPANY}/policy?at=2018-01-01").json()
    assert body["first_capture"] == "2018-01-02"
    assert "2018-01-02" in body["message"]
