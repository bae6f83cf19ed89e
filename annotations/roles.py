"""The four roles, as Django groups. Permissions are checked in views by group membership."""

from __future__ import annotations

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
