"""The site's URLs plus one that fails, for the 500 page's test."""

from __future__ import annotations

from django.urls import path

from config.urls import handler400, urlpatterns  # noqa: F401 (the handlers are read from here)


def _fail(request):
    raise RuntimeError("secret internal detail: /srv/palimpsest/settings.py line 42")


urlpatterns = [*urlpatterns, path("test-failure/", _fail, name="test_failure")]
