"""Reads of anonymous pages from a PostgreSQL read replica (DATABASE_REPLICA_URL).

`ReplicaReadsMiddleware` marks a request whose reads may go to the replica: a GET or HEAD
without a session cookie or API token (an anonymous visitor reading: the company list,
companies, captures, comparisons, search, trends, the public API). `ReplicaRouter` then
sends that request's ORM reads to `settings.REPLICA_DATABASE` and every write, whatever the
request, to the primary ("default"). A request that writes is pinned to the primary from its
first write on, so it reads its own writes; so are reads inside a transaction the request
opened. Migrations run on the primary only (the replica follows it by replication).

A replica lags its primary by a moment: an anonymous visitor may see a new tag a moment later
than its author. Stored pages stay exact: `policies.pagecache` stores a page rendered from the
replica only when the replica already had the company's page version the page's key holds.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
_SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class _ReplicaReads:
    alias: str
    # Transactions already open on the primary when the request began (a test's own): reads
    # inside one the request opens go to the primary.
    atomic_depth: int


_reads: ContextVar[_ReplicaReads | None] = ContextVar("replica_reads", default=None)


class ReplicaReadsMiddleware:
    """Lets an anonymous GET or HEAD request read from the replica (when one is configured);
    first in MIDDLEWARE, so stored pages served early read from it too."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _may_read_replica(request):
            return self.get_response(request)
        primary = connections[DEFAULT_DB_ALIAS]
        token = _reads.set(_ReplicaReads(settings.REPLICA_DATABASE, len(primary.atomic_blocks)))
        try:
            return self.get_response(request)
        finally:
            _reads.reset(token)


def _may_read_replica(request: HttpRequest) -> bool:
    return (
        bool(settings.REPLICA_DATABASE)
        and request.method in _SAFE_METHODS
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META  # an API token: a signed-in caller
    )


class ReplicaRouter:
    """Reads of a replica-reading request go to the replica; writes always to the primary."""

    def db_for_read(self, model, **hints) -> str | None:
        reads = _reads.get()
        if reads is None:
            return None
        if len(connections[DEFAULT_DB_ALIAS].atomic_blocks) > reads.atomic_depth:
            return DEFAULT_DB_ALIAS
        return reads.alias

    def db_for_write(self, model, **hints) -> str:
        # From the first write on, the request reads from the primary: its own writes.
        if _reads.get() is not None:
            _reads.set(None)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The replica holds the primary's rows: objects read from either relate freely.
        both = {obj1._state.db, obj2._state.db}
        return True if both <= {DEFAULT_DB_ALIAS, REPLICA} else None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return False if db == REPLICA else None
