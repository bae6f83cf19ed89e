"""Stable, bookmarkable URLs for companies, captures and comparisons."""

from __future__ import annotations

from django.urls import path, re_path, register_converter
from django.views.decorators.http import require_GET

from policies.comparing import feeds
from policies.comparing import views as compare_views
from policies.importing import views as import_views
from policies.reading import views
from policies.searching import views as search_views
from policies.trends import views as trend_views

CAPTURE = r"\d{4}-\d{2}-\d{2}|\d{14}"
# A company slug is a domain as written: anything but "/" and control characters (a NUL byte
# would reach PostgreSQL, which refuses it).
SLUG = r"[^/\x00-\x1f\x7f]+"


class CompanySlugConverter:
    regex = SLUG

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CompanySlugConverter, "company")

urlpatterns = [
    path("", views.company_list, name="company_list"),
    path("search/", search_views.search, name="search"),
    path("trends/", trend_views.trends, name="trends"),
    path("trends.csv", trend_views.trends_csv, name="trends_csv"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/new/", import_views.import_new, name="import_new"),
    path("imports/<int:run_id>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:run_id>/again/", import_views.import_again, name="import_again"),
    path(
        "imports/<int:run_id>/report.csv",
        import_views.import_report_csv,
        name="import_report_csv",
    ),
    path("feeds/changes.atom", require_GET(feeds.AllChangesFeed()), name="changes_feed"),
    path("companies/<company:slug>/", views.company_detail, name="company_detail"),
    path(
        "companies/<company:slug>/feed.atom",
        require_GET(feeds.CompanyChangesFeed()),
        name="company_feed",
    ),
    path("companies/<company:slug>/compare/", compare_views.compare_form, name="compare_form"),
    re_path(
        rf"^companies/(?P<slug>{SLUG})/compare/(?P<old>{CAPTURE})\.\.\.(?P<new>{CAPTURE})/$",
        compare_views.compare,
        name="compare",
    ),
    re_path(
        rf"^companies/(?P<slug>{SLUG})/(?P<capture>{CAPTURE})/$",
        views.snapshot_detail,
        name="snapshot_detail",
    ),
]
