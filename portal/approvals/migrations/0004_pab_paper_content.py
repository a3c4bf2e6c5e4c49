from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0003_decisions_papers_letters"),
    ]

    operations = [
        migrations.AddField(
            model_name="pabpaper",
            name="content",
            field=models.TextField(
                blank=True,
                help_text="The paper's body as generated (HTML): what its PDF, its page and the pack show.",
            ),
        ),
    ]
