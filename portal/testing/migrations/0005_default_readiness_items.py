from django.db import migrations


def load(apps, schema_editor):
    """The shipped readiness items (filled in with its loader)."""


class Migration(migrations.Migration):
    dependencies = [("testing", "0004_default_catalogue")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
