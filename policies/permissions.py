"""Who may do what: the site's roles, one named check per action, and one view decorator.

Every permission question in the site is answered here: views use `permission_required`,
workflows call `can_tag(user)` and friends, templates read the `can` flags that
`context_processors.permissions` puts in every page. Roles are Django groups (created by the
annotations app's first migration); staff and superusers hold every role.

This module lives in `policies` because both apps need it and `annotations` builds on
`policies`, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

REVIEWER = "Reviewer"
CURATOR = "Curator"
RESEARCHER = "Researcher"
IMPORTER = "Importer"
ALL_ROLES = (REVIEWER, CURATOR, RESEARCHER, IMPORTER)


@dataclass(frozen=True)
class Action:
    """Something only some roles may do, and how a refusal explains it."""

    name: str
    roles: tuple[str, ...]
    doing: str  # completes "… needs the X role": "Tagging clauses"


ACTIONS = {
    action.name: action
    for action in (
        Action("tag", (REVIEWER, CURATOR), "Tagging clauses"),
        Action("review", (REVIEWER, CURATOR), "Reviewing proposed tags"),
        Action("curate", (CURATOR,), "Changing other people's tags"),
        Action("import", (IMPORTER,), "Importing captures"),
        Action("export", (RESEARCHER, CURATOR), "Exporting tags"),
        Action("annotate", (REVIEWER, CURATOR), "Working in annotation campaigns"),
        Action("run_campaigns", (CURATOR,), "Creating campaigns and adjudicating them"),
        Action("api_tokens", (RESEARCHER, CURATOR), "Creating API tokens"),
        Action("see_suggester", ALL_ROLES, "Seeing the suggestion model"),
        Action("train_suggester", (CURATOR,), "Training the suggestion model"),
    )
}


def role_names(user) -> frozenset[str]:
    """The roles the user holds (every role for staff and superusers), queried once per user
    object."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_superuser or user.is_staff:
        return frozenset(ALL_ROLES)
    names = getattr(user, "_role_names", None)
    if names is None:
        names = frozenset(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._role_names = names
    return names


def allowed(user, action: str) -> bool:
    """True when the user holds one of the roles the action needs."""
    return bool(role_names(user).intersection(ACTIONS[action].roles))


def can_tag(user) -> bool:
    """Tag clauses, and edit or remove one's own tags."""
    return allowed(user, "tag")


def can_review(user) -> bool:
    """Confirm or dismiss proposed copies of tags in the review queue."""
    return allowed(user, "review")


def can_curate(user) -> bool:
    """Change and remove anyone's tags."""
    return allowed(user, "curate")


def can_import(user) -> bool:
    """Import captures from the browser."""
    return allowed(user, "import")


def can_export(user) -> bool:
    """Download tags with their provenance."""
    return allowed(user, "export")


def can_run_campaigns(user) -> bool:
    """Create and edit campaigns, see every annotator's tags, adjudicate to gold."""
    return allowed(user, "run_campaigns")


def can_create_api_tokens(user) -> bool:
    """Create personal API tokens (anyone may revoke their own)."""
    return allowed(user, "api_tokens")


def can_change_tag(user, annotator_id: int | None) -> bool:
    """A tag may be changed by its author (while they may tag) and by curators."""
    if can_curate(user):
        return True
    return annotator_id is not None and annotator_id == user.pk and can_tag(user)


def can_use_admin(user) -> bool:
    """Open Django's admin (staff; the header links to it)."""
    return bool(getattr(user, "is_staff", False))


def can_train_suggester(user) -> bool:
    """Start a training of the suggestions' category model from the browser."""
    return allowed(user, "train_suggester")


def refusal(action: str) -> str:
    """What a refused user is told: the role needed and whom to ask."""
    act = ACTIONS[action]
    roles = " or ".join(act.roles)
    plural = "role" if len(act.roles) == 1 else "roles"
    return (
        f"{act.doing} needs the {roles} {plural}. Ask a site administrator to add your "
        f"account to the {act.roles[0]} group (Admin → Users)."
    )


def flags(user) -> dict[str, bool]:
    """Every action's check for one user, for templates (`{% if can.tag %}`)."""
    return {name: allowed(user, name) for name in ACTIONS}


def permission_required(action: str) -> Callable:
    """View decorator: anonymous visitors are sent to sign in, a signed-in user without the
    role gets a 403 page saying which role the page needs and whom to ask."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user, action):
                raise PermissionDenied(refusal(action))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
