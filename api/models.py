"""Personal API tokens: a researcher's notebook signs its requests with one.

Only the SHA-256 of a token is stored: the token itself is shown once, when it is made. A token
is 256 random bits, so a plain SHA-256 (no salt, no slow hash) is enough to make the stored
value useless to someone who reads the database, and it can be looked up by an index.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiTokenQuerySet(models.QuerySet):
    def live(self) -> ApiTokenQuerySet:
        """Tokens that still authenticate: not revoked, their user active."""
        return self.filter(revoked_at__isnull=True, user__is_active=True)

    def for_account(self, user) -> ApiTokenQuerySet:
        """The user's tokens as the account page lists them, newest first."""
        return self.filter(user=user).order_by("-created_at", "-pk")


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True, default="", help_text="What it is for.")
    # The token's first characters ("pal_" and 8 more), shown so that its owner can tell tokens
    # apart; too short to guess the rest from.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(key_hash__regex=r"^[0-9a-f]{64}$"), name="apitoken_hash_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class RateWindow(models.Model):
    """A caller's requests in the current minute (`access.count_request`): one row per caller,
    reset when a new minute starts. In the database, not in a worker's memory, so every
    gunicorn worker counts against the same limit."""

    key = models.CharField(max_length=200, unique=True)  # "token:12", "address:10.0.0.1"
    window = models.BigIntegerField()  # minutes since the epoch
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key} at {self.window}: {self.count}"
