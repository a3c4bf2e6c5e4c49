"""Who may read, write, review and sign a QAD. Views ask these to decide what to offer; the services
ask them again before writing.

The signer rule is written once, in `portal.documents.signers.can_sign_final_qad` (re-exported here).
"""

from typing import Any

from portal.accounts.roles import CODE_BODY_ROLES, Role
from portal.accounts.selectors import user_is_director_of, user_organisation_ids, user_roles
from portal.documents.models import QadQuestion
from portal.documents.signers import can_sign_final_qad, is_signing_delegate, role_qualifies_under_rec_alone
from portal.documents.workflow import BODY_ROLES, AssessingBody
from portal.qualification.models import Application, Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import Party

# Staff who read QAD content: the Code Bodies, the DIP Manager (it assesses section 4.5) and
# administrators. The BSC PAB sees a summary prepared by the Code Bodies, not the QAD itself.
QAD_STAFF_READERS = CODE_BODY_ROLES | {Role.DIP_MANAGER, Role.ADMINISTRATOR}

__all__ = [
    "QAD_STAFF_READERS",
    "answers_clarifications",
    "can_edit_qad",
    "can_manage_delegates",
    "can_read_qad",
    "can_reopen_final_qad",
    "can_review_any_question",
    "can_review_question",
    "can_sign_final_qad",
    "is_participant_of",
    "is_reviewer",
    "is_signing_delegate",
    "reviews_clarifications",
    "role_qualifies_under_rec_alone",
]


def is_participant_of(user: Any, application: Application) -> bool:
    return application.organisation_id in user_organisation_ids(user)


def can_read_qad(user: Any, application: Application) -> bool:
    """The caller has already checked the application is in the user's scope."""
    return is_participant_of(user, application) or bool(user_roles(user) & QAD_STAFF_READERS)


def can_edit_qad(user: Any, application: Application) -> bool:
    return is_participant_of(user, application)


def is_reviewer(user: Any, task: Task) -> bool:
    """An assurer of the QAD task (the Code Bodies, as the route's process data names them)."""
    return user_holds_party(user, task, Party.ASSURER)


def can_review_question(user: Any, task: Task, question: QadQuestion) -> bool:
    """May raise and close clarifications on this question: an assurer of the task on any question,
    and the DIP Manager on the questions it assesses."""
    if is_reviewer(user, task):
        return True
    return AssessingBody.DIP_MANAGER in question.assessed_by and bool(
        user_roles(user) & BODY_ROLES[AssessingBody.DIP_MANAGER]
    )


def can_review_any_question(user: Any, task: Task) -> bool:
    return is_reviewer(user, task) or bool(user_roles(user) & BODY_ROLES[AssessingBody.DIP_MANAGER])


def answers_clarifications(user: Any) -> bool:
    """A member of some participant organisation: who may answer clarifications at all (whose, is
    `can_edit_qad` on the clarification's application). For a caller whose clarification is not read yet."""
    return bool(user_organisation_ids(user))


def reviews_clarifications(user: Any) -> bool:
    """Holds the role of a body that assesses QAD questions (the Code Bodies, the DIP Manager): who may
    reply to and close clarifications at all (on which, is `can_review_question`)."""
    return any(user_roles(user) & roles for roles in BODY_ROLES.values())


def can_manage_delegates(user: Any, organisation_id: int) -> bool:
    return user_is_director_of(user, organisation_id)


def can_reopen_final_qad(user: Any, task: Task) -> bool:
    """The Code Bodies who agree the Final QAD complete may reopen it for changes."""
    return is_reviewer(user, task)
