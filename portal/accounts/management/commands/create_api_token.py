from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.accounts.models import User
from portal.accounts.services import api_token_create
from portal.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Create an HTTP API bearer token for a user and print its secret. "
        "The secret is shown only once: store it where the client system keeps its credentials."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="E-mail address of the user the token acts as.")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. the client system's name.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"No user has the e-mail address {options['email']}.")
        try:
            token, secret = api_token_create(actor=None, user=user, name=options["name"], notify_owner=True)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"Created API token “{token.name}” ({token.key_prefix}…) for {user.email}.")
        self.stderr.write("Use it as: Authorization: Bearer <secret>. It will not be shown again.")
        self.stdout.write(secret)
