"""Each caller gets API_RATE_LIMIT requests a minute, then 429 with Retry-After."""

from __future__ import annotations

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
