from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from portal.demo.data import DEMO_PASSWORD, DEMO_TOTP_SECRET
from portal.demo.selectors import demo_login_list


class Command(BaseCommand):
    help = "Print the portal's address and a demo login for every role, with the shared demo password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=settings.PORTAL_BASE_URL, help="The address the portal is served on.")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"].rstrip("/")
        self.stdout.write(f"MHHS Qualification Portal: {url}/")
        try:
            logins = demo_login_list()
        except DatabaseError:
            logins = []
        if not logins:
            self.stdout.write(
                "No demo logins found: run `manage.py migrate` and `manage.py load_demo_data` (`make run` does both)."
            )
            return
        role_width = max(len(login.role.label) for login in logins)
        email_width = max(len(login.email) for login in logins)
        self.stdout.write(f"Demo logins (every one uses the password {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.role.label:<{role_width}}  {login.email:<{email_width}}  {login.organisation}")
        self.stdout.write(
            "Staff and directors then enter the code of an authenticator app: add the setup key "
            f"{DEMO_TOTP_SECRET} to one, or print the current code with `manage.py demo_totp`."
        )
        self.stdout.write(f"Reference data and users: {url}/admin/ (as the administrator above).")
