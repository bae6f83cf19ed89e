"""Taxonomy, tags and their lineage (built by the tagging issue)."""

from __future__ import annotations
