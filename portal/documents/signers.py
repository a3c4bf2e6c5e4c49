"""Who may sign a Final QAD: the one place this rule is written.

A Company Director of the applying organisation may sign. A signing delegate of that organisation
may sign only when the application's role qualifies under the REC alone: its role group needs no
BSC PAB approval under the approval-routing matrix (such as MOA/MEM). The module imports nothing of
the qualification app, so that its permission checks can call it without an import cycle.
"""

from typing import Any

from portal.accounts.selectors import user_is_director_of, user_organisation_ids
from portal.documents.models import SigningDelegate
from portal.participants.models import ApprovalBody, ApprovalRequirement


def role_qualifies_under_rec_alone(role_group_id: int) -> bool:
    """A role that needs no BSC PAB approval qualifies under the REC alone."""
    return not ApprovalRequirement.objects.filter(role_group_id=role_group_id, body=ApprovalBody.BSC_PAB).exists()


def is_signing_delegate(user: Any, organisation_id: int) -> bool:
    """An active signing delegate of the organisation who is still one of its members."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        organisation_id in user_organisation_ids(user)
        and SigningDelegate.objects.filter(
            organisation_id=organisation_id, user_id=user.pk, revoked_at__isnull=True
        ).exists()
    )


def signs_as_delegate(user: Any, application: Any) -> bool:
    """The user may sign this application's Final QAD as a delegate (and is not a director of it)."""
    return (
        not user_is_director_of(user, application.organisation_id)
        and is_signing_delegate(user, application.organisation_id)
        and role_qualifies_under_rec_alone(application.market_role.role_group_id)
    )


def can_sign_final_qad(user: Any, application: Any) -> bool:
    """A Company Director of the applying organisation, or a signing delegate of it for a role that
    qualifies under the REC alone. `application` needs `organisation_id` and `market_role`."""
    if user_is_director_of(user, application.organisation_id):
        return True
    return signs_as_delegate(user, application)
