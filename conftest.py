"""Shared pytest setup: the PostgreSQL marker and paths to the bundled sample data."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL to a postgres:// URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE_DIR
