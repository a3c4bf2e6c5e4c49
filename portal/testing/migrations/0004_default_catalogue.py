from django.db import migrations


def load(apps, schema_editor):
    """The shipped catalogue: requirements, DIP flows, scenarios and cases (see catalogue_data.py)."""
    from portal.testing.catalogue_data import catalogue_load

    catalogue_load(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("testing", "0003_qualification_testing"),
        # The role groups the cases apply to are loaded with the process definition.
        ("qualification", "0002_reference_data"),
        ("participants", "0001_initial"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
