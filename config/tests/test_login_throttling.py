"""Sign-in throttling (django-axes), password strength and session lifetime."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse

from annotations.tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _sign_in(client, username: str, password: str, address: str = "203.0.113.7", **headers):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        headers=headers,
    )


def _fail(client, username: str, times: int, address: str = "203.0.113.7") -> None:
    """Fail to sign in `times` times (fewer than the limit): the form again, with its error."""
    for _ in range(times):
        response = _sign_in(client, username, "wrong password", address)
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()


def _lock(client, username: str, address: str = "203.0.113.7") -> None:
    """Fail up to the limit: the last failure already answers with the lockout page."""
    _fail(client, username, settings.AXES_FAILURE_LIMIT - 1, address)
    assert _sign_in(client, username, "wrong password", address).status_code == 429


def test_settings_lock_username_and_address_together_for_fifteen_minutes():
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_five_failures_lock_the_username_from_that_address(client):
    make_user("rita")
    _lock(client, "rita")
    response = _sign_in(client, "rita", PASSWORD)  # even the right password is refused now
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many attempts" in html
    assert "try again in 15 minutes" in html
    assert "_auth_user_id" not in client.session
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_four_failures_do_not_lock(client):
    make_user("rita")
    _fail(client, "rita", settings.AXES_FAILURE_LIMIT - 1)
    assert _sign_in(client, "rita", PASSWORD).status_code == 302


def test_lockout_spares_other_addresses_and_other_usernames(client, django_user_model):
    rita, _ = make_user("rita"), make_user("omar")
    _lock(client, "rita")
    # Someone guessing rita's password from one address cannot lock rita out elsewhere...
    response = _sign_in(client, "rita", PASSWORD, address="198.51.100.20")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(rita.pk)
    client.logout()
    # ...nor lock out the other people behind that same address.
    assert _sign_in(client, "omar", PASSWORD).status_code == 302


def test_lockout_ends_after_the_cool_off(client):
    make_user("rita")
    _lock(client, "rita")
    assert _sign_in(client, "rita", PASSWORD).status_code == 429
    # Fourteen minutes later: still locked.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=14))
    assert _sign_in(client, "rita", PASSWORD).status_code == 429
    # A failure during the lockout restarts the cool-off from that attempt; move past it.
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert _sign_in(client, "rita", PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(client):
    make_user("rita")
    _fail(client, "rita", settings.AXES_FAILURE_LIMIT - 1)
    assert _sign_in(client, "rita", PASSWORD).status_code == 302
    client.logout()
    _fail(client, "rita", settings.AXES_FAILURE_LIMIT - 1)
    assert _sign_in(client, "rita", PASSWORD).status_code == 302


def test_behind_a_proxy_the_forwarded_address_is_the_client(client, monkeypatch):
    monkeypatch.setattr("config.settings.TRUSTED_PROXY_COUNT", 1)
    make_user("rita")
    proxy = "127.0.0.1"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "rita", "wrong", proxy, x_forwarded_for="203.0.113.7")
    locked = _sign_in(client, "rita", PASSWORD, proxy, x_forwarded_for="203.0.113.7")
    assert locked.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    # A client cannot dodge the lock by sending its own X-Forwarded-For: the proxy appends the
    # real address, and that last entry is the one used.
    spoofed = "10.9.9.9, 203.0.113.7"
    assert _sign_in(client, "rita", PASSWORD, proxy, x_forwarded_for=spoofed).status_code == 429
    # Another client behind the same proxy is not affected.
    other = _sign_in(client, "rita", PASSWORD, proxy, x_forwarded_for="198.51.100.20")
    assert other.status_code == 302


def test_force_login_is_not_throttled(client):
    """Tests sign in with force_login, which bypasses authentication (and so axes)."""
    rita = make_user("rita")
    _lock(client, "rita")
    client.force_login(rita)
    assert client.get(reverse("company_list")).status_code == 200


@pytest.mark.parametrize(
    "password",
    ["short-pass1", "password1234", "123456789012345", "rita-the-reviewer"],
    ids=["too-short", "common", "numeric", "like-the-username"],
)
def test_weak_passwords_are_refused(password):
    user = make_user("rita-the-reviewer")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_twelve_character_passphrase_is_accepted():
    validate_password("violet-harbor", make_user("rita"))


def test_sessions_end_with_the_browser_and_after_twelve_hours(client):
    rita = make_user("rita")
    response = _sign_in(client, "rita", PASSWORD)
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"]  # a browser-session cookie
    assert cookie["httponly"]
    assert client.session.get_expiry_age() == 12 * 60 * 60
    assert client.session["_auth_user_id"] == str(rita.pk)
