"""Who may see and do what. Views ask these for the user interface; services ask them again."""

from typing import Any

from django.db.models import Q, QuerySet

from portal.accounts.roles import PARTICIPANT_ROLES, Role
from portal.accounts.selectors import user_is_director_of, user_organisation_ids, user_roles
from portal.documents.signers import can_sign_final_qad
from portal.participants.models import ApprovalBody, ApprovalRequirement
from portal.qualification.models import Application, Task
from portal.qualification.workflow import Party, TaskKind, Transition, actions_for_kind

# Staff who follow every application through the process.
SEES_ALL = frozenset(
    {
        Role.ELEXON_ANALYST,
        Role.QSP,
        Role.TESTING_ASSURANCE,
        Role.PROGRAMME_ASSURANCE,
        Role.DIP_MANAGER,
        Role.SERVICE_ACTIVATION,
        Role.ADMINISTRATOR,
    }
)
# Staff of one code's approval body see only the roles that need that body's approval.
SEES_BODY: dict[Role, ApprovalBody] = {
    Role.REC_CODE_MANAGER: ApprovalBody.REC_CODE_MANAGER,
    Role.PAB_SECRETARY: ApprovalBody.BSC_PAB,
    Role.PAB_CHAIR: ApprovalBody.BSC_PAB,
    Role.PAB_MEMBER: ApprovalBody.BSC_PAB,
}
CLOSES_AS_NON_COMPLETION = frozenset({Role.ELEXON_ANALYST, Role.REC_CODE_MANAGER, Role.ADMINISTRATOR})


def application_scope_for(user: Any) -> QuerySet[Application]:
    """Every application the user may see. Anything outside it answers 404."""
    roles = user_roles(user)
    qs = Application.objects.all()
    if roles & SEES_ALL:
        return qs
    condition = Q(pk__in=[])
    bodies = {SEES_BODY[role] for role in roles if role in SEES_BODY}
    if bodies:
        # A subquery, not a join: a join repeats an application once per matching matrix row, and
        # the DISTINCT that hides it breaks aggregates and row locks on the scope.
        needing = ApprovalRequirement.objects.filter(body__in=bodies).values("role_group_id")
        condition |= Q(market_role__role_group_id__in=needing)
    if roles & PARTICIPANT_ROLES:
        condition |= Q(organisation_id__in=user_organisation_ids(user))
    return qs.filter(condition)


def application_scope_key(user: Any) -> str:
    """A name for the scope `application_scope_for(user)` answers, by the same rules: users with the
    same key see the same applications, so figures worked out for one may be shown to the other."""
    roles = user_roles(user)
    if roles & SEES_ALL:
        return "all"
    parts = sorted({str(SEES_BODY[role]) for role in roles if role in SEES_BODY})
    if roles & PARTICIPANT_ROLES:
        parts += [f"org{pk}" for pk in sorted(user_organisation_ids(user))]
    return "+".join(parts) or "none"


def user_holds_party(user: Any, task: Task, party: Party | str) -> bool:
    """Does the user hold one of the roles the task definition gives to `party`, for this application?"""
    roles = user_roles(user)
    for name in task.definition.roles_for(party):
        role = Role(name)
        if role not in roles:
            continue
        if role == Role.PARTICIPANT_MEMBER and task.application.organisation_id in user_organisation_ids(user):
            return True
        if role == Role.PARTICIPANT_DIRECTOR and user_is_director_of(user, task.application.organisation_id):
            return True
        if role not in PARTICIPANT_ROLES:
            return True
    return False


def can_take(user: Any, task: Task, transition: Transition) -> bool:
    if task.definition.kind == TaskKind.SIGNOFF:
        # Who may sign is the one signer rule: a Company Director, or a signing delegate for a role
        # that qualifies under the REC alone.
        return can_sign_final_qad(user, task.application)
    return user_holds_party(user, task, transition.party)


def can_act_on_task(user: Any, task: Task) -> bool:
    """May the user take some action on this task (whichever the state allows)? For a caller whose
    exact action is not known yet, e.g. before a request's body is read."""
    return any(can_take(user, task, transition) for transition in actions_for_kind(task.definition.kind))


def can_create_application(user: Any, organisation_id: int) -> bool:
    return organisation_id in user_organisation_ids(user)


def can_withdraw(user: Any, application: Application) -> bool:
    return application.organisation_id in user_organisation_ids(user)


def is_participant(user: Any) -> bool:
    """A member of some participant organisation: who may register applications at all (for which
    organisation is `can_create_application`)."""
    return bool(user_organisation_ids(user))


def can_mark_non_completion(user: Any) -> bool:
    return bool(user_roles(user) & CLOSES_AS_NON_COMPLETION)
