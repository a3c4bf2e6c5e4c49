from django.db import migrations


def load(apps, schema_editor):
    from portal.notifications.reference_data import distribution_lists_load

    distribution_lists_load(apps)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_attachments_distribution_lists_outbound_email")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
