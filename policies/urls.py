"""Stable, bookmarkable URLs for companies, captures and comparisons."""

from __future__ import annotations

from django.urls import path, re_path

from . import views

CAPTURE = r"\d{4}-\d{2}-\d{2}|\d{14}"

urlpatterns = [
    path("", views.company_list, name="company_list"),
    path("companies/<str:slug>/", views.company_detail, name="company_detail"),
    path("companies/<str:slug>/compare/", views.compare_form, name="compare_form"),
    re_path(
        rf"^companies/(?P<slug>[^/]+)/compare/(?P<old>{CAPTURE})\.\.\.(?P<new>{CAPTURE})/$",
        views.compare,
        name="compare",
    ),
    re_path(
        rf"^companies/(?P<slug>[^/]+)/(?P<capture>{CAPTURE})/$",
        views.snapshot_detail,
        name="snapshot_detail",
    ),
]
