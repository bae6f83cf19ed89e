"""`manage.py create_demo_users`: one demo login per role, printed by `make run` (development
only)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from policies.permissions import ALL_ROLES, CURATOR, IMPORTER, RESEARCHER, REVIEWER

# Printed for local demos; the command refuses to run when DEBUG is off.
DEMO_PASSWORD = "palimpsest-demo"  # nosec B105
DEMO_USERS = (
    ("reviewer", (REVIEWER,), "tags clauses, reviews proposed copies"),
    ("curator", (CURATOR,), "also changes anyone's tags, exports"),
    ("researcher", (RESEARCHER,), "exports tags"),
    ("importer", (IMPORTER,), "imports captures in the browser"),
    ("admin", ALL_ROLES, "everything, and the admin site"),
)


class Command(BaseCommand):
    help = "Create one demo user per role (DEBUG only) and print their logins."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo users are for development only (DEBUG is off).")
        groups = {group.name: group for group in Group.objects.filter(name__in=ALL_ROLES)}
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD} for all):")
        for username, roles, what in DEMO_USERS:
            staff = username == "admin"
            user, _ = User.objects.get_or_create(
                username=username, defaults={"is_staff": staff, "is_superuser": staff}
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.add(*(groups[role] for role in roles))
            self.stdout.write(f"  {username:<11} {', '.join(roles):<40} {what}")
