"""Who is calling the API, and how often they may.

- `Authorization: Bearer <token>`: the token's user, or 401 when the token is unknown, revoked
  or its user deactivated (never a quiet fall-back to anonymous).
- No header: the signed-in browser session's user (the docs page's "Try it out"), else an
  anonymous reader; with LOGIN_REQUIRED anonymous callers get 401, as the site asks them to
  sign in.
- Every caller may make `API_RATE_LIMIT` requests per minute (per token; per user for a
  session; per client address for anonymous callers), then gets 429 with Retry-After.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.throttling import BaseThrottle

from api.models import ApiToken
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


class PerCallerRate(BaseThrottle):
    """At most `API_RATE_LIMIT` requests per caller in each minute (a fixed window in Django's
    cache: one add and one increment per request)."""

    def allow_request(self, request: HttpRequest) -> bool:
        caller: Caller = request.auth  # type: ignore[attr-defined]
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"api-rate:{caller.rate_key(request)}:{window}"
        cache.add(key, 0, WINDOW_SECONDS + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS + 1)
            count = 1
        return count <= settings.API_RATE_LIMIT

    def wait(self) -> float:
        # Until the next window opens (stateless: one throttle object serves every thread).
        return max(1, math.ceil(WINDOW_SECONDS - time.time() % WINDOW_SECONDS))
