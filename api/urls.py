"""The JSON API (`/api/v1/`) and the account page where API tokens are made and revoked.

Everything under `/api/` answers in JSON, errors included: a path the API does not have gets a
JSON 404, a method other than GET a JSON 405.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, re_path

from api import views
from api.v1 import api


def _get_only(view: Callable) -> Callable:
    """The view for GET; any other method gets a JSON 405."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "GET":
            body = {"message": f"{request.method} is not allowed: the API is read-only (GET)."}
            response = JsonResponse({**body, "parameter": None}, status=405)
            response["Allow"] = "GET"
            return response
        return view(request, *args, **kwargs)

    return checked


def _api_urls() -> tuple[list, str, str]:
    """The API's routes, read-only (GET). With LOGIN_REQUIRED the site's middleware would send
    anonymous callers to the sign-in page; the API answers them itself (401 JSON), so its views
    are exempt."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(_get_only(pattern.callback))
    return patterns, app_name, namespace


@login_not_required
def api_not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /api/: a JSON 404 pointing at the documentation."""
    message = f"No API endpoint at /api/{rest[:200]}; the endpoints are listed at /api/v1/docs."
    return JsonResponse({"message": message, "parameter": None}, status=404)


urlpatterns = [
    path("api/v1/", _api_urls()),
    re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api_not_found"),
    path("account/", views.account, name="account"),
    path("account/tokens/", views.token_create, name="api_token_create"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
]
