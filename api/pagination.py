"""Cursor (keyset) pagination: a page is "the next `limit` rows after this one" in a fixed
order, so a page costs the same however deep into a list it is, and rows added meanwhile never
shift a page. The cursor is opaque to callers: the sort key of the last row sent, base64url'd
JSON."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from policies.filters import FilterError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None

    def as_json(self, request: HttpRequest, items: list) -> dict:
        """The page as the API sends it: `items`, `next_cursor` and `next` (the URL of the
        following page, or None on the last)."""
        following = None
        if self.next_cursor:
            params = request.GET.copy()
            params["cursor"] = self.next_cursor
            following = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return {"items": items, "next_cursor": self.next_cursor, "next": following}


def _encode(values: list) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise FilterError("cursor: not a cursor this API gave out") from exc
    if not isinstance(values, list) or len(values) != size:
        raise FilterError("cursor: not a cursor this API gave out")
    if not all(isinstance(v, str | int) for v in values):
        raise FilterError("cursor: not a cursor this API gave out")
    return values


def _after(order: tuple[str, ...], values: list) -> Q:
    """Rows after `values` in `order` (fields, "-" for descending): (a > x) or (a = x and b >
    y) or ..."""
    condition = Q(pk__in=[])
    equal: dict[str, object] = {}
    for name, value in zip(order, values, strict=True):
        field = name.lstrip("-")
        lookup = "lt" if name.startswith("-") else "gt"
        condition |= Q(**equal, **{f"{field}__{lookup}": value})
        equal[field] = value
    return condition


def paginate(
    queryset: QuerySet,
    order: tuple[str, ...],
    cursor: str,
    limit: int,
    key: Callable[[object], list] | None = None,
) -> Page:
    """One page of `queryset` in `order` (which must end in a unique field) after `cursor`.
    Rows are model instances, or anything else (`values_list` rows, ids) when `key` gives a row's
    values of `order`."""
    if cursor:
        try:
            queryset = queryset.filter(_after(order, _decode(cursor, len(order))))
        except (ValidationError, ValueError, TypeError) as exc:  # a value of the wrong type
            raise FilterError("cursor: not a cursor this API gave out") from exc
    rows = list(queryset.order_by(*order)[: limit + 1])
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    values = key(last) if key else [getattr(last, name.lstrip("-")) for name in order]
    return Page(rows[:limit], _encode(values))
