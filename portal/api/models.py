"""What the API itself keeps: the answers to writes sent with an `Idempotency-Key` header."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """One client-chosen key of one user, with the request it was first used for and, once that request
    has been answered, the answer to repeat. `status_code` is empty while the first request is in flight."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    body = models.BinaryField(default=b"")
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"

    @property
    def in_flight(self) -> bool:
        return self.status_code is None
