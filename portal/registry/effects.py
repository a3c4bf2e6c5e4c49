"""How the task transitions keep the register up to date.

Registered per (task code, action) in `portal/qualification/hooks.py` from `RegistryConfig.ready()`;
each runs inside the transition's transaction, after the application's status has been derived again,
so the register changes (and its e-mails are queued) exactly when the transition commits:

- the REC Code Manager approves (with or without conditions): the REC Party Register records
  "Approved by the REC Code Manager"; the REC Contract Manager and the relevant industry parties are
  e-mailed (distribution lists), and the Service Activation team is notified;
- any approval that leaves the application MHHS Qualified: the MHHS register records "MHHS Qualified",
  with the conditions of every body that approved with conditions;
- Service Activation completed and the application active: the MHHS register records "Active".
"""

from datetime import date

from django.urls import reverse

from portal.accounts.roles import Role
from portal.accounts.selectors import users_with_roles
from portal.notifications.reference_data import REC_CONTRACT_MANAGER, REC_INDUSTRY_PARTIES
from portal.notifications.services import email_distribution_list, notify
from portal.qualification.hooks import TransitionContext, register_effect
from portal.qualification.models import Application, TaskEntry
from portal.qualification.process import APPROVAL_CODES
from portal.qualification.workflow import Action, ApplicationStatus, Decision, TaskKind
from portal.registry.models import EntryStatus, Register, RegisterEntry
from portal.registry.services import register_record, register_record_change

REC_APPROVAL_TASK = "approval_rec_code_manager"
ACTIVATION_TASK = "service_activation"
APPROVING_ACTIONS = (Action.APPROVE, Action.APPROVE_WITH_CONDITIONS)


def register_effects() -> None:
    """Hook the register into the transitions (idempotent: a hook is registered once)."""
    for action in APPROVING_ACTIONS:
        register_effect(REC_APPROVAL_TASK, action, record_rec_approval)
        for code in APPROVAL_CODES:
            register_effect(code, action, record_qualification)
    register_effect(ACTIVATION_TASK, Action.COMPLETE, record_activation)


def record_rec_approval(context: TransitionContext) -> None:
    conditions = context.comment if context.action == Action.APPROVE_WITH_CONDITIONS else ""
    entry, added = register_record_change(
        actor=context.actor,
        application=context.application,
        register=Register.REC_PARTY,
        status=EntryStatus.REC_APPROVED,
        conditions=conditions,
    )
    if added:
        _announce_rec_party_register_update(context.application, entry, actor=context.actor)


def record_qualification(context: TransitionContext) -> None:
    if context.application.status != ApplicationStatus.QUALIFIED:
        return
    register_record(
        actor=context.actor,
        application=context.application,
        register=Register.MHHS,
        status=EntryStatus.QUALIFIED,
        conditions=approval_conditions(context.application),
    )


def record_activation(context: TransitionContext) -> None:
    if context.application.status != ApplicationStatus.ACTIVE:
        return
    register_record(
        actor=context.actor,
        application=context.application,
        register=Register.MHHS,
        status=EntryStatus.ACTIVE,
        # The conditions of the approvals still bind an active participant.
        conditions=approval_conditions(context.application),
    )


def approval_conditions(application: Application) -> str:
    """The conditions of every approval given with conditions, each under the name of its task."""
    parts = []
    tasks = application.tasks.filter(
        definition__kind=TaskKind.APPROVAL, decision=Decision.APPROVED_WITH_CONDITIONS
    ).select_related("definition")
    for task in tasks.order_by("order"):
        entry = (
            TaskEntry.objects.filter(task=task, action=Action.APPROVE_WITH_CONDITIONS)
            .order_by("-created_at", "-pk")
            .first()
        )
        if entry is not None and entry.comment:
            parts.append(f"{task.definition.title}: {entry.comment}")
    return "\n\n".join(parts)


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _announce_rec_party_register_update(application: Application, entry: RegisterEntry, *, actor: object) -> None:
    """Tell the REC Contract Manager and the relevant industry parties (by e-mail: they have no
    account) and the Service Activation team (in the portal) that the REC Party Register changed.

    The public e-mail says whether conditions apply; their text goes to the REC Contract Manager and
    the Service Activation team only, as the public register shows it."""
    link = reverse("registry:register")
    subject = f"REC Party Register updated: {entry.organisation_name} {entry.mpid_code} {entry.market_role_code}"
    summary = (
        f"The REC Code Manager approved {entry.organisation_name} (MPID {entry.mpid_code}) as "
        f"{entry.market_role_name} on {_day(entry.effective_date)}"
        + (", with conditions" if entry.conditions else "")
        + ". The REC Party Register now records it as “Approved by the REC Code Manager”."
    )
    detailed = summary + (f"\n\nConditions of the approval:\n{entry.conditions}" if entry.conditions else "")
    email_distribution_list(
        code=REC_CONTRACT_MANAGER, subject=subject, body=detailed, link=link, application=application
    )
    email_distribution_list(
        code=REC_INDUSTRY_PARTIES, subject=subject, body=summary, link=link, application=application
    )
    notify(
        recipients=users_with_roles({Role.SERVICE_ACTIVATION}),
        subject=f"REC Party Register updated: {application.reference}",
        body=f"{detailed}\n\nApplication {application.reference}.",
        link=link,
        application=application,
        exclude=actor,
    )
