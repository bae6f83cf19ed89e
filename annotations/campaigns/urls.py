"""Campaign URLs."""

from __future__ import annotations

from django.urls import path, re_path

from annotations.campaigns import views
from policies.urls import CAPTURE, SLUG

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<slug:slug>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<slug:slug>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<slug:slug>/work/", views.my_work, name="campaign_work"),
    path("campaigns/<slug:slug>/agreement/", views.campaign_agreement, name="campaign_agreement"),
    path(
        "campaigns/<slug:slug>/agreement.csv",
        views.campaign_agreement_csv,
        name="campaign_agreement_csv",
    ),
    re_path(
        rf"^campaigns/(?P<slug>[-\w]+)/adjudicate/(?P<company>{SLUG})/(?P<capture>{CAPTURE})/$",
        views.adjudicate,
        name="campaign_adjudicate",
    ),
    path(
        "campaigns/<slug:slug>/done/<int:snapshot_id>/",
        views.capture_done,
        name="campaign_capture_done",
    ),
]
