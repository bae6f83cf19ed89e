"""Checks an API response against the OpenAPI schema the API publishes: the status must be one
the operation declares, and the JSON body must validate against that status's schema."""

from __future__ import annotations

import re
from functools import cache

from django.test import Client
from jsonschema import Draft202012Validator


@cache
def openapi() -> dict:
    return Client().get("/api/v1/openapi.json").json()


def _operation(path: str) -> dict:
    """The GET operation whose path template matches `path` (without the query)."""
    for template, item in openapi()["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path):
            return item["get"]
    raise AssertionError(f"{path} matches no path of the schema")


def assert_matches_schema(response) -> None:
    """The response's status is declared for its path, and its body validates."""
    path = response.request["PATH_INFO"]
    declared = _operation(path)["responses"]
    status = str(response.status_code)
    assert status in declared, f"{path} answered {status}, declared {sorted(declared)}"
    schema = declared[status]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": openapi()["components"]})
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())
    ]
    assert errors == [], f"{path} ({status}): {errors}"
