"""The shipped DIP onboarding steps, as data: the eight steps of the DIP Manager's onboarding guidance.

Loaded into `DipOnboardingStep` rows by a data migration (and by `dip_steps_load()` for a database that
was emptied); after that an administrator edits them in the admin without code.
"""

from typing import Any

from django.apps import apps as global_apps

STEPS: tuple[tuple[str, str, str], ...] = (
    (
        "company_verified",
        "Access the DIP and verify company details",
        "Sign in to the DIP portal (multi-factor authentication with Microsoft Authenticator), accept the "
        "Terms of Use, and verify the company name, description and company number. Tick “acting as DCP” "
        "if you are a DIP Connection Provider.",
    ),
    (
        "users_set_up",
        "Set up users",
        "Name the Primary User Admin (or User Admin), the Certificate Admin and the Message Admin. The "
        "Certificate and Message Admins must exist before other users are added.",
    ),
    (
        "globalsign_account",
        "Create a GlobalSign account",
        "Create the organisation's GlobalSign account; vetting runs on GlobalSign Atlas.",
    ),
    (
        "dip_certificates",
        "Request DIP certificates",
        "The Certificate Admin requests the DIP certificates within the organisation's quota.",
    ),
    (
        "domain_verified",
        "Verify the domain",
        "Verify ownership of the domain used for the webhook URLs (the DNS admin adds the record).",
    ),
    (
        "signing_certificate",
        "Create the signing and mTLS certificate",
        "Create the signing / mutual TLS client certificate (PFX) used to sign and send messages.",
    ),
    (
        "dip_ids",
        "Manage DIP IDs",
        "Check the MPID and role list pre-loaded from MHHS Qualification and record the DIP ID of each MPID "
        "and role below. If an MPID is missing, the Message Admin requests a new DIP role for the DIP "
        "Manager to validate. Nominate a DCP per role where one is used.",
    ),
    (
        "message_channels",
        "Set up message channels",
        "Register one webhook URL per interface (IF) and publication (PUB) channel: inbound through the "
        "Send Message API, outbound through the Receive Messages webhook.",
    ),
)


def dip_steps_load(apps: Any = global_apps, *, reset: bool = False) -> int:
    """Add the shipped steps that are missing (by code) and return how many were added; with
    `reset=True` every shipped step is put back to its shipped values. Takes an app registry so that
    a data migration can run it against historical models."""
    DipOnboardingStep = apps.get_model("dip", "DipOnboardingStep")
    added = 0
    for position, (code, title, guidance) in enumerate(STEPS, start=1):
        values = {"title": title, "guidance": guidance, "order": position * 10, "is_active": True}
        if reset:
            _, made = DipOnboardingStep.objects.update_or_create(code=code, defaults=values)
        else:
            _, made = DipOnboardingStep.objects.get_or_create(code=code, defaults=values)
        added += int(made)
    return added
