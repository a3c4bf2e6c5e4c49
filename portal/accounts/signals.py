"""Wiring only: authentication events from Django and allauth are passed to
`portal.accounts.services`, which records them. Connected in `AccountsConfig.ready`."""

from typing import Any

from allauth.account.signals import authentication_step_completed
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest

from portal.accounts import services
from portal.accounts.models import User


def _on_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        services.session_started(request=request, user=user)


def _on_logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    services.signed_out(request=request, user=user)


def _before_user_saved(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    # Only a save that switches the account off needs the previous value.
    if instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    instance._portal_was_active = User.objects.filter(pk=instance.pk, is_active=True).exists()  # type: ignore[attr-defined]


def _after_user_saved(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if getattr(instance, "_portal_was_active", False) and not instance.is_active:
        instance._portal_was_active = False  # type: ignore[attr-defined]
        services.user_deactivated(user=instance)


def _on_authenticator_added(sender: Any, request: HttpRequest | None, user: Any, authenticator: Any, **kw: Any) -> None:
    services.mfa_enrolled(request=request, user=user, authenticator=authenticator)


def _on_authenticator_removed(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Any, **kw: Any
) -> None:
    services.mfa_event(user=user, action="auth.mfa_removed", authenticator=authenticator)


def _on_authenticator_reset(sender: Any, request: HttpRequest | None, user: Any, authenticator: Any, **kw: Any) -> None:
    services.mfa_event(user=user, action="auth.mfa_reset", authenticator=authenticator)


def _on_authenticator_used(sender: Any, request: HttpRequest | None, user: Any, authenticator: Any, **kw: Any) -> None:
    if getattr(authenticator, "type", "") == "recovery_codes":
        services.mfa_event(
            user=user,
            action="auth.recovery_code_used",
            authenticator=authenticator,
            reauthenticated=bool(kw.get("reauthenticated")),
        )


def _on_mfa_failed(sender: Any, request: HttpRequest | None, user: Any, authenticator: Any = None, **kw: Any) -> None:
    services.mfa_event(
        user=user,
        action="auth.mfa_failed",
        authenticator=authenticator,
        reauthentication=bool(kw.get("reauthentication")),
    )


def _on_step_completed(sender: Any, request: HttpRequest, user: Any, method: str, **kw: Any) -> None:
    if kw.get("reauthenticated"):
        services.reauthenticated(user=user, method=f"{method}:{kw['type']}" if kw.get("type") else method)


def connect() -> None:
    user_logged_in.connect(_on_logged_in, dispatch_uid="portal.accounts.logged_in")
    user_logged_out.connect(_on_logged_out, dispatch_uid="portal.accounts.logged_out")
    pre_save.connect(_before_user_saved, sender=User, dispatch_uid="portal.accounts.before_user_saved")
    post_save.connect(_after_user_saved, sender=User, dispatch_uid="portal.accounts.after_user_saved")
    mfa_signals.authenticator_added.connect(_on_authenticator_added, dispatch_uid="portal.accounts.mfa_added")
    mfa_signals.authenticator_removed.connect(_on_authenticator_removed, dispatch_uid="portal.accounts.mfa_removed")
    mfa_signals.authenticator_reset.connect(_on_authenticator_reset, dispatch_uid="portal.accounts.mfa_reset")
    mfa_signals.authenticator_used.connect(_on_authenticator_used, dispatch_uid="portal.accounts.mfa_used")
    mfa_signals.authentication_failed.connect(_on_mfa_failed, dispatch_uid="portal.accounts.mfa_failed")
    authentication_step_completed.connect(_on_step_completed, dispatch_uid="portal.accounts.step_completed")
