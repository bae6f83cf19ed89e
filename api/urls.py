"""The JSON API (`/api/v1/`) and the account page where API tokens are made and revoked."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from api import views
from api.v1 import api


def _api_urls() -> tuple[list, str, str]:
    """The API's routes, read-only (GET). With LOGIN_REQUIRED the site's middleware would send
    anonymous callers to the sign-in page; the API answers them itself (401 JSON), so its views
    are exempt."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(require_GET(pattern.callback))
    return patterns, app_name, namespace


urlpatterns = [
    path("api/v1/", _api_urls()),
    path("account/", views.account, name="account"),
    path("account/tokens/", views.token_create, name="api_token_create"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
]
