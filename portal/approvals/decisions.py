"""The vocabulary of approval decisions, shared by the services, the pages and the API: which task
action each outcome takes, what each body is called, and where each body's decision page is."""

from collections.abc import Mapping

from portal.participants.models import ApprovalBody
from portal.qualification.workflow import Action, Decision

# Which transition of the approval task each outcome takes (`portal.qualification.workflow`).
OUTCOME_ACTIONS: Mapping[Decision, Action] = {
    Decision.APPROVED: Action.APPROVE,
    Decision.APPROVED_WITH_CONDITIONS: Action.APPROVE_WITH_CONDITIONS,
    Decision.DEFERRED: Action.DEFER,
    Decision.REJECTED: Action.REJECT,
}
DECISION_ACTIONS = frozenset(OUTCOME_ACTIONS.values())
# What each outcome means for the participant, as the decision form explains it.
OUTCOME_HINTS: Mapping[Decision, str] = {
    Decision.APPROVED: "This body's approval is given.",
    Decision.APPROVED_WITH_CONDITIONS: "Approval given on condition that the chosen agreed work-off items are closed.",
    Decision.DEFERRED: "The application goes back to the participant for more information, and to a later decision.",
    Decision.REJECTED: "The application is closed, with the reasons. This cannot be undone.",
}


def body_label(body: str) -> str:
    try:
        return str(ApprovalBody(body).label)
    except ValueError:
        return "approval body"


def decision_page_path(application_id: int, body: str) -> str:
    return f"/applications/{application_id}/approvals/{body}/"
