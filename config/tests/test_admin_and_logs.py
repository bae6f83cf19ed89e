"""The admin names the site and links back to it; a refused page logs no traceback."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.urls import reverse

from annotations.tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_admin_pages_carry_the_name_a_link_back_and_the_favicon(client):
    client.force_login(User.objects.create_superuser("boss", password="a-long-test-password"))
    html = client.get(reverse("admin:index")).content.decode()
    assert '<a href="/admin/">Palimpsest administration</a>' in html
    assert "| Palimpsest administration</title>" in html
    assert '<a href="/">← Back to Palimpsest</a>' in html
    assert 'rel="icon" href="/static/img/favicon.svg"' in html
    client.logout()
    login = client.get(reverse("admin:login")).content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in login


def test_site_pages_use_the_same_favicon(client):
    html = client.get(reverse("company_list")).content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    assert finders.find("img/favicon.svg")


def test_a_refused_page_is_logged_on_one_line_without_a_traceback(client, caplog):
    client.force_login(make_user("reader"))
    with caplog.at_level(logging.WARNING):
        response = client.get(reverse("review_list"))
    assert response.status_code == 403
    refusals = [r for r in caplog.records if getattr(r, "status_code", None) == 403]
    assert [r.getMessage() for r in refusals] == ["Forbidden (Permission denied): /review/"]
    assert all(r.exc_info is None for r in caplog.records)
