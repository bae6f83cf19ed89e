"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from annotations.roles import ALL_ROLES, has_role


def roles(request: HttpRequest) -> dict[str, object]:
    """`roles`: the names of the signed-in user's roles (Reviewer, Importer, ...).

    Lazy: the groups are queried only when a template asks (`"Importer" in roles`), at most once
    per request, and not at all when a view already checked a role with `has_role`.
    """
    return {"roles": SimpleLazyObject(lambda: _role_names(request.user))}


def _role_names(user) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    return frozenset(role for role in ALL_ROLES if has_role(user, role))
