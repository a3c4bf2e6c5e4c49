"""The secret in a private calendar feed's address.

The secret is an HMAC of the feed's random nonce under the site's secret key, so the database holds
only the nonce and the secret's SHA-256: a copy of the database does not give the addresses away, and
the user can still be shown their address whenever they open the page. Changing DJANGO_SECRET_KEY
changes every address (users then copy theirs again)."""

import base64
import hashlib
import secrets

from django.utils.crypto import salted_hmac

TOKEN_LENGTH = 32
_SALT = "portal.approvals.calendar-feed"


def new_nonce() -> str:
    return secrets.token_hex(32)


def feed_token(user_id: int, nonce: str) -> str:
    digest = salted_hmac(_SALT, f"{user_id}:{nonce}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def looks_like_token(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in token)
