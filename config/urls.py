"""URL routes: the admin, sign-in, and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("annotations.urls")),
    path("", include("policies.urls")),
]
