"""The four roles, as Django groups. Permissions are checked in views by group membership."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

REVIEWER = "Reviewer"
CURATOR = "Curator"
RESEARCHER = "Researcher"
IMPORTER = "Importer"
ALL_ROLES = (REVIEWER, CURATOR, RESEARCHER, IMPORTER)


def has_role(user, *roles: str) -> bool:
    """True for superusers and for members of any of the groups named."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    names = getattr(user, "_role_names", None)
    if names is None:
        names = set(user.groups.values_list("name", flat=True))
        user._role_names = names
    return bool(names.intersection(roles))


def role_required(*roles: str):
    """View decorator: anonymous users go to the login page, users without a role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (request.user.is_staff or has_role(request.user, *roles)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
