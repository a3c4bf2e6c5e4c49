"""Changing audit rows behind the services' back, as an attacker with database access would.

On PostgreSQL the append-only trigger is disabled for the statement and enabled again; the test's
transaction rolls the whole change (trigger state included) back at its end. Pending deferred
constraint checks are run first, because PostgreSQL will not alter a table that has them."""

from collections.abc import Sequence
from typing import Any

from django.db import connection

TRIGGER = "audit_event_no_update_delete"


def raw_sql(statement: str, params: Sequence[Any]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {TRIGGER}")
            try:
                cursor.execute(statement, params)
            finally:
                cursor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {TRIGGER}")
        else:
            cursor.execute(statement, params)
