"""Campaign URLs."""

from __future__ import annotations

from django.urls import path

from annotations.campaigns import views

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<slug:slug>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<slug:slug>/work/", views.my_work, name="campaign_work"),
    path(
        "campaigns/<slug:slug>/done/<int:snapshot_id>/",
        views.capture_done,
        name="campaign_capture_done",
    ),
]
