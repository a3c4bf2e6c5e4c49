"""Audit events record where they came from: the client address and the request id (ASVS 16.2.1).

Both columns are added empty (NULL and ''): no existing row is updated, so PostgreSQL's append-only
trigger (0002) does not fire, and every existing event still verifies, because an empty address or
request id is left out of the hashed content (portal/audit/services.py, `event_digest`)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="client_address",
            field=models.GenericIPAddressField(
                blank=True, help_text="The client's address, as the sign-in throttle reads it.", null=True
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(
                blank=True, help_text="The request's X-Request-ID, also in the log and the response.", max_length=64
            ),
        ),
    ]
