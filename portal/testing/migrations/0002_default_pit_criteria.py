from django.db import migrations


def load(apps, schema_editor):
    from portal.testing.pit_criteria import pit_criteria_load

    pit_criteria_load(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("testing", "0001_initial"),
        ("qualification", "0002_reference_data"),
        ("participants", "0001_initial"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
