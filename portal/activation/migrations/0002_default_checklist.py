from django.db import migrations


def load(apps, schema_editor):
    from portal.activation.checklist import activation_checklist_load

    activation_checklist_load(apps)


class Migration(migrations.Migration):
    dependencies = [("activation", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
