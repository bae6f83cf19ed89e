"""Tagging, review and taxonomy URLs."""

from __future__ import annotations

from django.urls import path, re_path

from annotations.exports import views as export_views
from annotations.review import views as review_views
from annotations.suggesting import model_views
from annotations.tagging import views

urlpatterns = [
    path("annotations/", views.tag_create, name="tag_create"),
    path("annotations/<int:pk>/", views.tag_detail, name="tag_detail"),
    path("annotations/<int:pk>/edit/", views.tag_edit, name="tag_edit"),
    path("annotations/<int:pk>/delete/", views.tag_delete, name="tag_delete"),
    path("review/", review_views.review_list, name="review_list"),
    path("review/<int:pk>/", review_views.review_action, name="review_action"),
    path("review/<int:pk>/undo/", review_views.review_undo, name="review_undo"),
    path("taxonomy.css", views.taxonomy_css, name="taxonomy_css"),
    path("suggestions/", model_views.suggester, name="suggester"),
    path("suggestions/train/", model_views.suggester_train, name="suggester_train"),
    path("export/", export_views.export_page, name="export_page"),
    path("export/companies/", export_views.export_companies, name="export_companies"),
    re_path(
        r"^export/annotations\.(?P<fmt>csv|jsonl|jsonld)$",
        export_views.export_annotations,
        name="export_annotations",
    ),
]
