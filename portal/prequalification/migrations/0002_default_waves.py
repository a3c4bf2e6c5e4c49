from django.db import migrations


def load(apps, schema_editor):
    from portal.prequalification.reference_data import waves_load

    waves_load(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("prequalification", "0001_initial"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
