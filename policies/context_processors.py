"""Template context shared by every page: what the signed-in user may do."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from policies.permissions import flags, role_names


def permissions(request: HttpRequest) -> dict[str, object]:
    """`can`: one flag per action (`{% if can.tag %}`), and `roles`: the user's role names.

    Lazy: the groups are queried only when a template asks, at most once per request, and not
    at all when a view already checked a permission for the same user.
    """
    # An error page for a request refused before the authentication middleware ran (a 400
    # for a bad Host header) has no user: it is shown as to an anonymous visitor.
    user = getattr(request, "user", None) or AnonymousUser()
    return {
        "can": SimpleLazyObject(lambda: flags(user)),
        "roles": SimpleLazyObject(lambda: sorted(role_names(user))),
    }
