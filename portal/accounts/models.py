import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class PortalUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person who signs in. The e-mail address is the login; `username` mirrors it for admin tools."""

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)

    objects = PortalUserManager()  # type: ignore[misc]  # stubs declare the manager a ClassVar

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class ApiToken(models.Model):
    """A bearer token for the HTTP API. Only the SHA-256 of the secret is stored; the secret is shown
    once, when the token is created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class SignedInSession(models.Model):
    """One server-side session of a signed-in user, so that all of a user's sessions can be ended at
    once (when they sign out, and when their account is deactivated) and so that a user can see their
    sessions and end any other one (the "Your account" page). The row is written when the session
    starts (at sign-in) and deleted with the session.

    The session key itself is never shown or logged: a session is named by this row's id."""

    MAX_USER_AGENT_LENGTH = 300

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField()
    # When the session last made a request, to within `services.LAST_SEEN_RESOLUTION_SECONDS`.
    last_seen_at = models.DateTimeField(default=timezone.now)
    # The browser's User-Agent at sign-in, cut to MAX_USER_AGENT_LENGTH, and a short reading of it.
    user_agent = models.CharField(max_length=MAX_USER_AGENT_LENGTH, blank=True, default="")
    browser = models.CharField(max_length=100, blank=True, default="")
    # The client's address at sign-in, read by allauth's rule (ALLAUTH_TRUSTED_PROXY_COUNT).
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "started_at"], name="signed_in_session_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} since {self.started_at:%Y-%m-%d %H:%M}"
