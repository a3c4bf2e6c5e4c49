from typing import Any

from django.core.management.base import BaseCommand

from portal.api.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete the stored answers of Idempotency-Key requests whose keys have expired (run it daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = idempotency_keys_purge()
        self.stdout.write(f"Deleted {deleted} expired idempotency key(s).")
