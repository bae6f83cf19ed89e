"""Template context shared by every page: what the signed-in user may do."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from policies.permissions import flags, role_names


def permissions(request: HttpRequest) -> dict[str, object]:
    """`can`: one flag per action (`{% if can.tag %}`), and `roles`: the user's role names.

    Lazy: the groups are queried only when a template asks, at most once per request, and not
    at all when a view already checked a permission for the same user.
    """
    user = request.user
    return {
        "can": SimpleLazyObject(lambda: flags(user)),
        "roles": SimpleLazyObject(lambda: sorted(role_names(user))),
    }
