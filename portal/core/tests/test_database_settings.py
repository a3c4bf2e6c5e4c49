"""The database sessions the portal opens carry its settings."""

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL session setting")
def test_postgresql_sessions_plan_joins_with_the_portals_collapse_limit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        join = cursor.fetchone()[0]
        cursor.execute("SHOW from_collapse_limit")
        from_ = cursor.fetchone()[0]
    assert join == from_ == str(settings.PORTAL_PG_JOIN_COLLAPSE_LIMIT) == "4"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's pragmas")
def test_sqlite_connections_write_ahead_and_check_foreign_keys():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
        cursor.execute("PRAGMA journal_mode")
        # The test database lives in memory, where the journal cannot be written ahead.
        assert cursor.fetchone()[0] in {"wal", "memory"}
