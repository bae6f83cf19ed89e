"""`manage.py create_api_token USERNAME [--name TEXT]`: prints a new API token for the user."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.tokens import issue_token
from policies.permissions import can_create_api_tokens


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it (it is shown only once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(f"no active user called {username!r}")
        if not can_create_api_tokens(user):
            self.stderr.write(
                f"Note: {username} holds neither the Researcher nor the Curator role; the token "
                "reads what anonymous readers may, and tags are refused."
            )
        _, secret = issue_token(user, name or "command line")
        self.stdout.write(secret)
