"""Personal API tokens: stored hashed, shown once, revocable; a bad token is refused (401)."""

from __future__ import annotations

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.tests.factories import make_user
from api.models import ApiToken
from api.tokens import issue_token
from policies.permissions import REVIEWER

TAGS = "/api/v1/tags"


def test_only_the_hash_and_a_prefix_are_stored(researcher):
    token, secret = issue_token(researcher, "notebook")
    token.refresh_from_db()
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert len(token.prefix) == 12
    stored = " ".join(str(v) for v in ApiToken.objects.values_list().get(pk=token.pk))
    assert secret not in stored


def test_two_tokens_differ(researcher):
    assert issue_token(researcher)[1] != issue_token(researcher)[1]


def test_a_token_reads_tags_and_records_its_use(client, bearer, researcher, tagged):
    response = client.get(TAGS, **bearer)
    assert response.status_code == 200
    # Tagged on the second capture, carried to the third (unchanged).
    assert [t["quote"] for t in response.json()["items"]] == ["advertisers", "advertisers"]
    assert ApiToken.objects.get(user=researcher).last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer pal_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "pal_x"],
)
def test_a_wrong_token_is_refused_not_read_as_anonymous(client, history, header):
    # Reading is public, so falling back to anonymous would answer 200: it must not.
    response = client.get("/api/v1/companies", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["message"].startswith("Authorization")


def test_a_revoked_token_is_refused(client, researcher, bearer, history):
    client.force_login(researcher)
    token = ApiToken.objects.get(user=researcher)
    response = client.post(reverse("api_token_revoke", args=[token.pk]), follow=True)
    assert "Token revoked" in response.content.decode()
    client.logout()
    assert client.get("/api/v1/companies", **bearer).status_code == 401


def test_a_deactivated_users_token_is_refused(client, researcher, bearer, history):
    researcher.is_active = False
    researcher.save()
    assert client.get("/api/v1/companies", **bearer).status_code == 401


def test_nobody_revokes_someone_elses_token(client, researcher, token):
    other = make_user("oscar", REVIEWER)
    client.force_login(other)
    pk = ApiToken.objects.get(user=researcher).pk
    client.post(reverse("api_token_revoke", args=[pk]))
    assert ApiToken.objects.get(pk=pk).revoked_at is None


def test_the_account_page_makes_a_token_and_shows_it_once(client, researcher, history):
    client.force_login(researcher)
    response = client.post(reverse("api_token_create"), {"name": "thesis"})
    assert response.status_code == 201
    secret = re.search(r'class="token-secret">([^<]+)<', response.content.decode()).group(1)
    assert ApiToken.objects.get(user=researcher).name == "thesis"
    page = client.get(reverse("account")).content.decode()
    assert secret not in page
    assert secret[:12] in page
    client.logout()
    assert client.get("/api/v1/companies", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_the_header_links_the_username_to_the_account_page(client, researcher, history):
    client.force_login(researcher)
    html = client.get("/").content.decode()
    assert f'<a class="who" href="{reverse("account")}"' in html


def test_a_reviewer_is_told_which_role_makes_tokens(client, db):
    client.force_login(make_user("rev", REVIEWER))
    page = client.get(reverse("account")).content.decode()
    assert "needs the Researcher or Curator role" in page
    assert client.post(reverse("api_token_create")).status_code == 403


def test_the_command_prints_a_working_token(client, researcher, history):
    out = StringIO()
    call_command("create_api_token", "ruth", stdout=out)
    secret = out.getvalue().strip()
    assert client.get(TAGS, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(Exception, match="no active user"):
        call_command("create_api_token", "nobody")


def test_with_login_required_anonymous_callers_get_401_and_tokens_still_read(
    client, bearer, history, settings
):
    settings.LOGIN_REQUIRED = True
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    assert client.get("/").status_code == 302  # the site asks for sign-in
    anonymous = client.get("/api/v1/companies")
    assert anonymous.status_code == 401  # JSON, not a redirect to the sign-in page
    assert "sign in" in anonymous.json()["message"]
    assert client.get("/api/v1/companies", **bearer).status_code == 200
