from django.db import migrations


def load(apps, schema_editor):
    """The shipped QT exit rules (see portal/testing/qt_reference_data.py)."""
    from portal.testing.qt_reference_data import exit_rules_load

    exit_rules_load(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("testing", "0005_default_readiness_items"),
        ("qualification", "0002_reference_data"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
