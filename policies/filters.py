"""Query-string filters shared by the search page, the exports and the commands.

Each parser reads a `Params` (a Django QueryDict, or one a command builds) and raises
`FilterError` with a message naming the parameter. `CaptureFilters` is the one definition of
"which captures count" (companies, a capture-date range, the latest capture of each company),
as an ORM condition and as SQL for the search's single statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from django.db.models import OuterRef, Q, Subquery

from policies.models import Snapshot

_TRUE = {"1", "true", "yes", "on"}
_SPLIT = re.compile(r"[\s,]+")


class FilterError(ValueError):
    """A filter value that cannot be understood; the message names the parameter."""

    @property
    def parameter(self) -> str:
        """The parameter the message names ("from: expected a date ..." → "from")."""
        return str(self).partition(":")[0]


class Params(Protocol):
    """What the filter parsers read: a Django QueryDict, or one built by a command."""

    def getlist(self, key: str) -> list[str]: ...


def param_values(params: Params, name: str) -> tuple[str, ...]:
    """Every value of a repeatable parameter; each may also list several, comma-separated."""
    values = []
    for raw in params.getlist(name):
        values.extend(v for v in _SPLIT.split(raw.strip()) if v)
    return tuple(dict.fromkeys(values))


def param_flag(params: Params, name: str) -> bool:
    """A checkbox-style parameter: 1, true, yes or on."""
    values = params.getlist(name)
    return bool(values) and values[-1].strip().lower() in _TRUE


def param_value(params: Params, name: str) -> str:
    """A single-valued parameter (the last one given), stripped; "" when absent."""
    values = params.getlist(name)
    return values[-1].strip() if values else ""


def parse_period(value: str, name: str) -> tuple[datetime, datetime]:
    """A day, month or year (2015-06-01, 2015-06, 2015) as [start, end) in UTC."""
    formats = (("%Y-%m-%d", "day"), ("%Y-%m", "month"), ("%Y", "year"))
    for pattern, unit in formats:
        try:
            start = datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
        if unit == "day":
            return start, start + timedelta(days=1)
        if unit == "month":
            following = start.replace(day=28) + timedelta(days=4)
            return start, following.replace(day=1)
        return start, start.replace(year=start.year + 1)
    raise FilterError(
        f"{name}: expected a date such as 2015-06-01, 2015-06 or 2015 (got {value[:40]!r})"
    )


@dataclass(frozen=True)
class CaptureFilters:
    """Which captures count: companies (slugs), a capture-date range, the latest only."""

    companies: tuple[str, ...] = ()
    captured_from: datetime | None = None  # inclusive
    captured_before: datetime | None = None  # exclusive
    latest: bool = False

    @classmethod
    def from_params(cls, params: Params) -> CaptureFilters:
        """`company` (repeatable), `from`, `to` (day, month or year, inclusive), `latest`."""
        first, last = param_value(params, "from"), param_value(params, "to")
        start = parse_period(first, "from")[0] if first else None
        end = parse_period(last, "to")[1] if last else None
        if start and end and start >= end:
            raise FilterError("from: must be on or before to")
        return cls(param_values(params, "company"), start, end, param_flag(params, "latest"))

    def q(self, prefix: str = "") -> Q:
        """The condition on captures, for a query on Snapshot (prefix "") or through a relation
        (prefix "snapshot__")."""
        condition = Q()
        if self.companies:
            condition &= Q(**{f"{prefix}company__slug__in": self.companies})
        if self.captured_from:
            condition &= Q(**{f"{prefix}captured_at__gte": self.captured_from})
        if self.captured_before:
            condition &= Q(**{f"{prefix}captured_at__lt": self.captured_before})
        if self.latest:
            newest = Snapshot.objects.filter(company_id=OuterRef(f"{prefix}company_id"))
            newest = newest.order_by("-captured_at").values("captured_at")[:1]
            condition &= Q(**{f"{prefix}captured_at": Subquery(newest)})
        return condition

    def sql(self, alias: str) -> tuple[str, dict[str, object]]:
        """The same condition as SQL on the snapshot table aliased `alias` (" AND ..." or ""),
        with named parameters, so that one statement can repeat it."""
        parts, params = [], {}
        if self.companies:
            parts.append(
                f"{alias}.company_id IN "  # nosec B608 -- alias is ours; values are parameters
                "(SELECT id FROM policies_company WHERE slug = ANY(%(companies)s))"
            )
            params["companies"] = list(self.companies)
        if self.captured_from:
            parts.append(f"{alias}.captured_at >= %(captured_from)s")
            params["captured_from"] = self.captured_from
        if self.captured_before:
            parts.append(f"{alias}.captured_at < %(captured_before)s")
            params["captured_before"] = self.captured_before
        if self.latest:
            # One grouped pass over the captures: a correlated max() per row is 20x slower.
            parts.append(
                f"({alias}.company_id, {alias}.captured_at) IN "  # nosec B608 -- alias is ours
                "(SELECT company_id, max(captured_at) FROM policies_snapshot GROUP BY company_id)"
            )
        return "".join(f" AND {part}" for part in parts), params

    @property
    def active(self) -> bool:
        return bool(self.companies or self.captured_from or self.captured_before or self.latest)
