from django.db import migrations


def load(apps, schema_editor):
    """The shipped BSC PAB meeting rule and deadline rules (see portal/approvals/reference_data.py)."""
    from portal.approvals.reference_data import approvals_reference_data_load

    approvals_reference_data_load(apps)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
