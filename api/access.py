"""Who is calling the API, and how often they may.

- `Authorization: Bearer <token>`: the token's user, or 401 when the token is unknown, revoked
  or its user deactivated (never a quiet fall-back to anonymous).
- No header: the signed-in browser session's user (the docs page's "Try it out"), else an
  anonymous reader; with LOGIN_REQUIRED anonymous callers get 401, as the site asks them to
  sign in.
- Every caller may make `API_RATE_LIMIT` requests per minute (per token; per user for a
  session; per client address for anonymous callers), then gets 429 with Retry-After. The
  counts live in the database (`RateWindow`), so several workers share one limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.throttling import BaseThrottle

from api.models import ApiToken, RateWindow
from api.tokens import find_token

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Caller:
    """The API's view of a request's sender (ninja's `request.auth`)."""

    user: object
    token: ApiToken | None = None

    def rate_key(self, request: HttpRequest) -> str:
        if self.token is not None:
            return f"token:{self.token.pk}"
        if getattr(self.user, "is_authenticated", False):
            return f"user:{self.user.pk}"
        return f"address:{settings.AXES_CLIENT_IP_CALLABLE(request)}"


class Unauthorized(AuthenticationError):
    """401 with a reason the caller can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(401, message)


def authenticate(request: HttpRequest) -> Caller:
    """The caller of an API request (ninja's auth callback); raises Unauthorized (401)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("Authorization: expected 'Bearer <token>'.")
        token = find_token(secret.strip())
        if token is None:
            raise Unauthorized("Authorization: this token is unknown or has been revoked.")
        return Caller(token.user, token)
    user = getattr(request, "user", None) or AnonymousUser()
    if not user.is_authenticated and settings.LOGIN_REQUIRED:
        raise Unauthorized("This site asks readers to sign in: send 'Authorization: Bearer'.")
    return Caller(user)


# One atomic statement per request: a new minute starts the count again at 1. On PostgreSQL
# the statement also turns off waiting for the disk at its commit (a count lost in a crash is
# harmless): `set_config(..., true)` lasts for the statement's own transaction, so the count
# is one round trip rather than four (BEGIN, SET LOCAL, INSERT, COMMIT).
_COUNT_SQL = """
INSERT INTO {table} ("key", "window", "count") SELECT %s, %s, 1{no_wait}
ON CONFLICT ("key") DO UPDATE SET
    "count" = CASE WHEN {table}."window" = excluded."window" THEN {table}."count" + 1 ELSE 1 END,
    "window" = excluded."window"
RETURNING "count"
"""
_NO_WAIT = " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_wait"


def count_request(key: str, window: int) -> int:
    """Count one request of `key` in minute `window` and return the minute's count so far. An
    upsert, so concurrent workers never lose a count and there is nothing to sweep. On
    PostgreSQL its commit does not wait for the disk: the flush cost 12 ms a request on a busy
    machine, half an API list's time."""
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    no_wait = _NO_WAIT if connection.vendor == "postgresql" else ""
    sql = _COUNT_SQL.format(table=table, no_wait=no_wait)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, window])  # nosec B608 -- our table and our constant
        return cursor.fetchone()[0]


class PerCallerRate(BaseThrottle):
    """At most `API_RATE_LIMIT` requests per caller in each minute (a fixed window counted in
    the database, shared by every worker: one statement per request)."""

    def allow_request(self, request: HttpRequest) -> bool:
        caller: Caller = request.auth  # type: ignore[attr-defined]
        window = int(time.time() // WINDOW_SECONDS)
        return count_request(caller.rate_key(request), window) <= settings.API_RATE_LIMIT

    def wait(self) -> float:
        # Until the next window opens (stateless: one throttle object serves every thread).
        return max(1, math.ceil(WINDOW_SECONDS - time.time() % WINDOW_SECONDS))
