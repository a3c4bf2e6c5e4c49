from django.db import migrations


def load(apps, schema_editor):
    from portal.qualification.reference_data import reference_data_load

    reference_data_load(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("qualification", "0001_initial"),
        ("participants", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
