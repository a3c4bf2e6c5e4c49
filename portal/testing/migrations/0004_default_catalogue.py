from django.db import migrations


def load(apps, schema_editor):
    """The shipped catalogue (filled in with its loader)."""


class Migration(migrations.Migration):
    dependencies = [("testing", "0003_qualification_testing")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
