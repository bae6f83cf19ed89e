"""`manage.py create_demo_users`: the demo logins `make run` prints (development only)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from annotations.roles import ALL_ROLES, REVIEWER

# Printed for local demos; the command refuses to run when DEBUG is off.
DEMO_PASSWORD = "palimpsest-demo"  # nosec B105


class Command(BaseCommand):
    help = "Create a demo reviewer and a demo admin (DEBUG only) and print their logins."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo users are for development only (DEBUG is off).")
        reviewer, _ = User.objects.get_or_create(username="reviewer")
        reviewer.set_password(DEMO_PASSWORD)
        reviewer.save()
        reviewer.groups.add(Group.objects.get(name=REVIEWER))
        admin, _ = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        admin.set_password(DEMO_PASSWORD)
        admin.save()
        admin.groups.add(*Group.objects.filter(name__in=ALL_ROLES))
        self.stdout.write(
            f"Demo reviewer: reviewer / {DEMO_PASSWORD}   Demo admin: admin / {DEMO_PASSWORD}"
        )
