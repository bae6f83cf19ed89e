from __future__ import annotations

from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Annotations"

    def ready(self) -> None:
        # Join policies' work at its named extension points (policies.extensions).
        from annotations.lineage.follow import follow_into_new_captures
        from annotations.suggesting.hooks import index_changed_texts, index_imported_texts
        from annotations.tagging.anchoring import reanchor_sections
        from annotations.tagging.overlay import TagOverlay
        from policies import extensions

        extensions.register_overlay(TagOverlay())
        extensions.on_captures_imported(follow_into_new_captures)
        extensions.on_texts_changed(reanchor_sections)
        extensions.on_captures_imported(index_imported_texts)
        extensions.on_texts_changed(index_changed_texts)
