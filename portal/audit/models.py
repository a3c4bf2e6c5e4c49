from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One append-only, hash-chained record of something that changed.

    `hash` is the SHA-256 of this event's canonical content and the previous event's hash, so editing
    or deleting any event breaks every link after it (`manage.py verify_audit`). On PostgreSQL a
    trigger refuses UPDATE and DELETE on this table outright.
    """

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=254, help_text="Who acted, kept even if the account is renamed.")
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    application_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    summary = models.CharField(max_length=500, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    # Where the change came from (ASVS 16.2.1): the client address and the X-Request-ID of the web or API
    # request it was made in; empty for events written by workers and management commands.
    client_address = models.GenericIPAddressField(
        null=True, blank=True, help_text="The client's address, as the sign-in throttle reads it."
    )
    request_id = models.CharField(
        max_length=64, blank=True, help_text="The request's X-Request-ID, also in the log and the response."
    )
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["sequence"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.target_type}:{self.target_id}"


class AuditChainHead(models.Model):
    """A single row holding the end of the chain. Writers lock it, so events are appended one at a
    time, and a deleted last event is still detected (the head remembers it)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_singleton")]

    def __str__(self) -> str:
        return f"audit chain head at #{self.last_sequence}"
