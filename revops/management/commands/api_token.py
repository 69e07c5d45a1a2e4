"""manage.py api_token USERNAME --name NAME: make a personal API token for a
user and print it once (as the token page does), e.g. for scripts and the demo."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from revops.actors import Actor
from revops.api.tokens import api_token_create


class Command(BaseCommand):
    help = "Make an API token acting as USERNAME (with exactly that user's role) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What will use the token, e.g. 'ERP export'")

    def handle(self, *args, username, name, **options):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            made = api_token_create(
                user=user, name=name, actor=Actor.for_system("revops", "manage.py api_token")
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(made.value)
