"""Personal API tokens: issuing one, recognising it in a request, revoking it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from api.models import ApiToken

PREFIX = "pal_"
SHOWN_CHARS = len(PREFIX) + 8
# `last_used_at` is written at most this often per token, so that a notebook walking a history
# does not turn every read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(user, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`: the stored row, and the secret (shown once, never stored)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100], prefix=secret[:SHOWN_CHARS], key_hash=token_hash(secret)
    )
    return token, secret


def find_token(secret: str) -> ApiToken | None:
    """The live token with this secret (with its user), or None: unknown, revoked, or its user
    deactivated. Records when it was used."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = ApiToken.objects.live().select_related("user").filter(key_hash=token_hash(secret))
    token = token.first()
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token


def revoke_token(user, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when they have no such live token."""
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )
