"""Suggestion and shared-wording URLs."""

from __future__ import annotations

from django.urls import path, re_path

from annotations.suggesting import views
from policies.urls import CAPTURE, SLUG

urlpatterns = [
    path("suggestions/accept/", views.suggestion_accept, name="suggestion_accept"),
    path("suggestions/reject/", views.suggestion_reject, name="suggestion_reject"),
    path("suggestions/accept-all/", views.suggestion_accept_all, name="suggestion_accept_all"),
    re_path(r"^wording/(?P<key>-?\d{1,20})/$", views.wording_detail, name="wording_detail"),
    re_path(
        rf"^companies/(?P<slug>{SLUG})/(?P<capture>{CAPTURE})/shared-wording/$",
        views.shared_wording,
        name="shared_wording",
    ),
]
