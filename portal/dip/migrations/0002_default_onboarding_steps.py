from django.db import migrations


def load(apps, schema_editor):
    from portal.dip.onboarding_steps import dip_steps_load

    dip_steps_load(apps)


class Migration(migrations.Migration):
    dependencies = [("dip", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
