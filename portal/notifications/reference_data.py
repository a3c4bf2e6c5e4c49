"""The distribution lists the portal ships with. The addresses are placeholders: administrators put the
real ones in the admin (`/admin/notifications/distributionlist/`)."""

from typing import Any

from django.apps import apps as global_apps

REC_CONTRACT_MANAGER = "rec_contract_manager"
REC_INDUSTRY_PARTIES = "rec_industry_parties"

# code, name, addresses
LISTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (REC_CONTRACT_MANAGER, "REC Contract Manager", ("rec-contract-manager@rec-portal.example",)),
    (
        REC_INDUSTRY_PARTIES,
        "Relevant industry parties",
        ("industry-notices@rec-portal.example", "mhhs-programme-notices@mhhs-programme.example"),
    ),
)


def distribution_lists_load(apps: Any = global_apps, *, reset: bool = False) -> int:
    """Add the shipped lists that are missing (by code) and return how many were added; with
    `reset=True` the shipped lists are put back to their shipped values. Takes an app registry so that
    a data migration can run it against historical models."""
    DistributionList = apps.get_model("notifications", "DistributionList")
    added = 0
    for code, name, addresses in LISTS:
        values = {"name": name, "addresses": "\n".join(addresses), "is_active": True}
        if reset:
            _, made = DistributionList.objects.update_or_create(code=code, defaults=values)
        else:
            _, made = DistributionList.objects.get_or_create(code=code, defaults=values)
        added += int(made)
    return added
