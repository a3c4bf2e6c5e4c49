"""Register entries are append-only in the database too: an entry may only be marked superseded
(`is_current` true → false with `superseded_at` set, nothing else changed).

On PostgreSQL a trigger refuses any other UPDATE and every DELETE. On SQLite a trigger refuses the
other UPDATEs; DELETE stays possible there (the test suite empties tables with it), and the
audit chain records every entry that was added."""

from django.db import migrations

POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION registry_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'register entries are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.is_current AND NOT NEW.is_current AND OLD.superseded_at IS NULL AND NEW.superseded_at IS NOT NULL
       AND (to_jsonb(NEW) - 'is_current' - 'superseded_at') = (to_jsonb(OLD) - 'is_current' - 'superseded_at') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'register entries are append-only: only marking one superseded is allowed'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_entry_append_only BEFORE UPDATE OR DELETE ON registry_registerentry
    FOR EACH ROW EXECUTE FUNCTION registry_entry_append_only();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS registry_entry_append_only ON registry_registerentry;
DROP FUNCTION IF EXISTS registry_entry_append_only();
"""

COLUMNS = (
    "id",
    "application_id",
    "organisation_id",
    "organisation_name",
    "mpid_code",
    "market_role_code",
    "market_role_name",
    "register",
    "status",
    "conditions",
    "effective_date",
    "recorded_at",
    "recorded_by_id",
    "previous_id",
)

SQLITE_CREATE = f"""
CREATE TRIGGER registry_entry_append_only BEFORE UPDATE ON registry_registerentry
WHEN NOT (
    OLD.is_current AND NOT NEW.is_current AND OLD.superseded_at IS NULL AND NEW.superseded_at IS NOT NULL
    AND {" AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in COLUMNS)}
)
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: only marking one superseded is allowed');
END;
"""

SQLITE_DROP = "DROP TRIGGER IF EXISTS registry_entry_append_only;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
