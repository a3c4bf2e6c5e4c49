"""The shipped Service Activation checklist, as data.

Loaded into `ActivationChecklistItem` rows by a data migration (and by `activation_checklist_load()` for
a database that was emptied); after that an administrator edits them in the admin without code. The
real MHHS Service Activation runbook is not published in full (reference/domain.md §10), so these are
the checks the sources name, written so that the team can reword, reorder, add or retire them.
"""

from typing import Any

from django.apps import apps as global_apps

# code, title, description, required
ITEMS: tuple[tuple[str, str, str, bool], ...] = (
    (
        "dip_production_ids",
        "DIP IDs confirmed for production",
        "The production DIP ID of the MPID and market role is recorded and confirmed by the DIP Manager, and "
        "the participant's production DIP users, certificates and message channels are in place.",
        True,
    ),
    (
        "standing_data",
        "Market role details recorded in industry standing data",
        "The MPID, market role and effective-from date are recorded in Market Domain Data / Industry Standing "
        "Data (ISD), so that other participants' systems accept the participant's flows.",
        True,
    ),
    (
        "service_connections",
        "Settlement and data-service connections confirmed",
        "Connections to the central settlement services and to the appointed data services are confirmed for "
        "production, with the participant's first production messages exchanged successfully.",
        True,
    ),
    (
        "party_details",
        "BSC and REC party details confirmed",
        "The participant's BSC Party or Party Agent details held by Elexon and its entry on the REC Party "
        "Register match the qualified MPID and market role.",
        True,
    ),
    (
        "conditions_reviewed",
        "Approval conditions and work-off items reviewed",
        "Any conditions the approval bodies set, and the agreed work-off items still open, have been read and "
        "do not stop the participant operating; they stay tracked after activation until closed.",
        True,
    ),
    (
        "go_live_agreed",
        "Go-live date agreed with the participant",
        "The participant has agreed the date from which it will operate in the MHHS arrangements. Record it "
        "as the planned go-live date of the hand-off.",
        True,
    ),
    (
        "operational_contacts",
        "Operational contacts recorded",
        "The participant's operational and incident contacts are recorded with the service desks it will work with.",
        False,
    ),
    (
        "participant_notified",
        "Participant notified it may operate",
        "The participant has been told in writing the date from which it may operate. Completing the "
        "hand-off also tells its members in the portal.",
        True,
    ),
)


def activation_checklist_load(apps: Any = global_apps, *, reset: bool = False) -> int:
    """Add the shipped items that are missing (by code) and return how many were added; with
    `reset=True` every shipped item is put back to its shipped values. Takes an app registry so that a
    data migration can run it against historical models."""
    Item = apps.get_model("activation", "ActivationChecklistItem")
    added = 0
    for position, (code, title, description, required) in enumerate(ITEMS, start=1):
        values = {
            "title": title,
            "description": description,
            "order": position * 10,
            "is_required": required,
            "is_active": True,
        }
        if reset:
            _, made = Item.objects.update_or_create(code=code, defaults=values)
        else:
            _, made = Item.objects.get_or_create(code=code, defaults=values)
        added += int(made)
    return added
