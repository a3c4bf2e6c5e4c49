import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.accounts.mfa import totp_code
from portal.demo.data import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = (
        "Print the current authenticator code of the demo staff users and directors (they share the published "
        "demo secret), and how many seconds it has left. Each code is accepted once: wait for the next one to "
        "sign in again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        period = int(settings.MFA_TOTP_PERIOD)
        left = period - int(time.time()) % period
        self.stdout.write(f"{totp_code(DEMO_TOTP_SECRET)}  (valid for {left} more seconds)")
