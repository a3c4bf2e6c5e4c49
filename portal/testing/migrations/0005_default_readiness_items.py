from django.db import migrations


def load(apps, schema_editor):
    """The shipped readiness items (see portal/testing/qt_reference_data.py)."""
    from portal.testing.qt_reference_data import readiness_items_load

    readiness_items_load(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("testing", "0004_default_catalogue"),
        ("qualification", "0002_reference_data"),
        ("participants", "0001_initial"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
