from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class PortalAccountAdapter(DefaultAccountAdapter):
    """Accounts belong to known people at known organisations and are created by an administrator,
    so the public sign-up form is closed."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
