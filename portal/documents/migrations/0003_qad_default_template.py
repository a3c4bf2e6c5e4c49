from django.db import migrations


def load(apps, schema_editor):
    from portal.documents.signing import DEFAULT_DECLARATION_TEXT
    from portal.documents.template_data import default_template_load

    default_template_load(apps)
    Declaration = apps.get_model("documents", "Declaration")
    if not Declaration.objects.exists():
        Declaration.objects.create(version=1, text=DEFAULT_DECLARATION_TEXT, is_current=True)


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0002_qad"),
        ("qualification", "0002_reference_data"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
