"""Twenty attempts at the same decisive transition at the same moment, each from its own database
connection: exactly one succeeds, the other nineteen are refused with a clear conflict (409), and
exactly one audit event and one set of notifications (one inbox row and one e-mail job per recipient)
record the transition. ASVS v5.0.0-2.3.3 (all or nothing), 2.3.4 (a single approval slot per body
cannot be used twice), 15.4.2 (the state is checked under the row lock that the change is made with).

The races need PostgreSQL's row locks; on SQLite they are skipped with the reason shown."""

import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.db.models import Count, Max
from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import STAFF_ROLES, Role
from portal.approvals.decision_services import approval_decide
from portal.approvals.models import ApprovalDecision
from portal.approvals.testing_support import approval_prepare_step
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.documents.models import DirectorSignature
from portal.documents.selectors import declaration_current
from portal.documents.services import qad_sign, qad_submit
from portal.documents.testing_support import qad_complete_answers
from portal.factories import TEST_PASSWORD, MpidFactory, make_member, make_staff
from portal.notifications.models import Notification
from portal.participants.models import ApprovalBody
from portal.qualification.models import Application, Task
from portal.qualification.services import task_transition
from portal.qualification.workflow import Action, Decision, TaskState
from portal.tests.concurrency.conftest import ATTEMPTS, RaceResult, postgresql_only, race

pytestmark = [
    postgresql_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_db", "everyone"),
]

SEND_JOB = "portal.notifications.tasks.send_notification_email"


@pytest.fixture
def everyone(staff: Callable[[Role], User]) -> None:
    """One user of every staff role, so that every transition has somebody to tell."""
    for role in sorted(STAFF_ROLES):
        staff(role)


class Marks:
    """Where the audit chain, the inbox and the job table stood before the race."""

    def __init__(self) -> None:
        self.audit = AuditEvent.objects.aggregate(m=Max("sequence"))["m"] or 0
        self.notification = Notification.objects.aggregate(m=Max("pk"))["m"] or 0
        self.jobs = set(DBTaskResult.objects.values_list("pk", flat=True))

    def audit_actions(self) -> Counter[str]:
        return Counter(AuditEvent.objects.filter(sequence__gt=self.audit).values_list("action", flat=True))

    def notifications(self) -> Any:
        return Notification.objects.filter(pk__gt=self.notification)

    def send_jobs(self) -> int:
        return DBTaskResult.objects.filter(task_path=SEND_JOB).exclude(pk__in=self.jobs).count()


def assert_one_winner(result: RaceResult, *, conflict: str | tuple[str, ...]) -> Any:
    """Exactly one success; every other attempt refused with a 409 whose message says why; nothing
    else raised, nothing hung (no deadlock, no serialization failure escaping)."""
    assert result.hung == 0, "an attempt did not finish: a lock was never released"
    assert result.crashes == [], f"attempts failed with something other than an application error: {result.crashes!r}"
    assert len(result.successes) == 1, f"{len(result.successes)} attempts succeeded"
    assert len(result.refusals) == ATTEMPTS - 1
    wanted = (conflict,) if isinstance(conflict, str) else conflict
    for refused in result.refusals:
        assert refused.status == 409, refused.as_dict()
        assert any(words in refused.message for words in wanted), refused.message
    return result.successes[0]


def assert_told_once(marks: Marks, subject: str) -> None:
    """One inbox notification per recipient for the transition, each with exactly one e-mail job."""
    told = marks.notifications().filter(subject=subject)
    assert told.exists(), f"nobody was told “{subject}”"
    assert not told.values("recipient").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert marks.send_jobs() == marks.notifications().count()


def otp(user: User) -> str:
    """The current code of the user's authenticator app, if they have one (directors must)."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return ""
    secret = decrypt(authenticator.data["secret"])
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


# --- a task submission -----------------------------------------------------------------------------


def test_a_task_submitted_twenty_times_at_once_is_submitted_once(
    make_application: Callable[..., Application], member: User, org: Any, content_rules_off: None
) -> None:
    """The PQS, by two members of the applying organisation at once (each ten times)."""
    application = make_application(route="non_sit_supplier_agent")
    colleague = make_member(org, email="colleague@northern.test")
    marks = Marks()

    result = race(
        [
            partial(
                task_transition,
                actor=user,
                application_id=application.pk,
                task_code="pqs",
                action=Action.SUBMIT,
                comment="Ready.",
            )
            for user in [member, colleague] * (ATTEMPTS // 2)
        ]
    )

    task = assert_one_winner(result, conflict="is submitted, so it cannot be submitted now")
    assert Task.objects.get(pk=task.pk).state == TaskState.SUBMITTED
    assert task.entries.filter(action=Action.SUBMIT).count() == 1
    assert marks.audit_actions() == Counter({"task.submit": 1})
    assert_told_once(marks, f"{task.definition.title} submitted: {application.reference}")
    assert audit_verify().ok


def test_the_final_qad_submitted_twenty_times_at_once_is_submitted_and_frozen_once(
    make_application: Callable[..., Application],
    advance: Callable[..., Application],
    member: User,
    org: Any,
    only_rules_of: Callable[..., None],
) -> None:
    """With the QAD's own rules on: its completeness guard, and the effect that freezes the version."""
    only_rules_of("final_qad", "director_signoff", helpers="portal.documents.testing_support")
    application = advance(make_application(route="sit", market_role="SUP"), stop_before="final_qad")
    qad_complete_answers(actor=member, application=application, kind="final")
    colleague = make_member(org, email="colleague@northern.test")
    marks = Marks()

    result = race(
        [
            partial(qad_submit, actor=user, application_id=application.pk, kind="final")
            for user in [member, colleague] * (ATTEMPTS // 2)
        ]
    )

    task = assert_one_winner(result, conflict="is submitted, so it cannot be submitted now")
    assert Task.objects.get(pk=task.pk).state == TaskState.SUBMITTED
    assert marks.audit_actions() == Counter({"task.submit": 1, "qad.freeze": 1})
    assert application.qad_submissions.filter(kind="final", status="submitted").count() == 1
    assert_told_once(marks, f"Final QAD submitted: {application.reference}")
    assert audit_verify().ok


# --- the Director's sign-off -------------------------------------------------------------------------


def test_the_final_qad_signed_twenty_times_at_once_is_signed_once(
    make_application: Callable[..., Application],
    advance: Callable[..., Application],
    director: User,
    org: Any,
    only_rules_of: Callable[..., None],
) -> None:
    """Two Company Directors, each signing ten times at once, with their passwords."""
    only_rules_of("final_qad", "director_signoff", helpers="portal.documents.testing_support")
    application = advance(make_application(route="sit", market_role="SUP"), stop_before="director_signoff")
    other_director = make_member(org, director=True, email="second.director@northern.test")
    declaration = declaration_current().version
    marks = Marks()

    result = race(
        [
            partial(
                qad_sign,
                actor=user,
                application_id=application.pk,
                password=TEST_PASSWORD,
                declaration_version=declaration,
                otp_code=code,
            )
            for user, code in [(director, otp(director)), (other_director, otp(other_director))] * (ATTEMPTS // 2)
        ]
    )

    signature = assert_one_winner(result, conflict="The Final QAD is already signed.")
    assert list(DirectorSignature.objects.values_list("pk", flat=True)) == [signature.pk]
    assert Task.objects.get(application=application, code="director_signoff").state == TaskState.COMPLETED
    assert marks.audit_actions() == Counter({"qad.sign": 1, "task.sign": 1})
    assert_told_once(marks, f"Director sign-off signed: {application.reference}")
    assert audit_verify().ok


# --- each body's approval decision, and the Board's ---------------------------------------------------

# The deciders of each body (two people holding its roles) and the outcomes they try at once.
DECIDERS = {
    ApprovalBody.DIP_MANAGER: (Role.DIP_MANAGER, Role.DIP_MANAGER),
    ApprovalBody.REC_CODE_MANAGER: (Role.REC_CODE_MANAGER, Role.REC_CODE_MANAGER),
    # The Board's decision, recorded by its secretary or its chair.
    ApprovalBody.BSC_PAB: (Role.PAB_SECRETARY, Role.PAB_CHAIR),
}
OUTCOMES = (Decision.APPROVED, Decision.DEFERRED, Decision.REJECTED, Decision.APPROVED)
PAST = {Decision.APPROVED: "approved", Decision.DEFERRED: "deferred", Decision.REJECTED: "rejected"}
ACTIONS = {
    Decision.APPROVED: Action.APPROVE,
    Decision.DEFERRED: Action.DEFER,
    Decision.REJECTED: Action.REJECT,
}


def test_each_body_deciding_twenty_times_at_once_decides_once(
    make_application: Callable[..., Application],
    advance: Callable[..., Application],
    actor_for: Callable[..., User],
    org: Any,
    content_rules_off: None,
) -> None:
    """For each body, on its own application: twenty decisions at once by two people of the body,
    approving, deferring and rejecting. One of them is the decision, whichever it is; the others are
    refused because the body has decided (or, after a rejection, because the application is closed)."""
    for body, (first, second) in DECIDERS.items():
        mpid = MpidFactory(organisation=org)
        application = make_application(route="sit", market_role="SUP", mpid=mpid.code)
        application = advance(application, stop_before="approval_dip_manager")
        task = Task.objects.get(application=application, definition__approval_body=body)
        if body == ApprovalBody.BSC_PAB:
            approval_prepare_step(
                application=application, task_code=task.code, action=Action.APPROVE, actor_for=actor_for
            )
        people = [make_staff(first, email=f"one.{body}@bodies.test"), make_staff(second, email=f"two.{body}@b.test")]
        marks = Marks()

        def attempt(
            n: int, people: list[User] = people, application: Application = application, body: str = body
        ) -> Any:
            return approval_decide(
                actor=people[n % 2],
                application_id=application.pk,
                body=body,
                outcome=OUTCOMES[n % len(OUTCOMES)],
                rationale=f"Decision {n}: the evidence was considered.",
            )

        result = race([partial(attempt, n) for n in range(ATTEMPTS)])

        decision = assert_one_winner(result, conflict=("so it cannot be", "nothing more can be done on it"))
        assert list(ApprovalDecision.objects.filter(application=application).values_list("pk", flat=True)) == [
            decision.pk
        ], body
        task.refresh_from_db()
        assert task.decision == decision.outcome, body
        actions = marks.audit_actions()
        assert actions[f"task.{ACTIONS[Decision(decision.outcome)]}"] == 1, (body, actions)
        assert actions["approval.decision"] == 1, (body, actions)
        assert sum(n for action, n in actions.items() if action.startswith("task.")) == 1, (body, actions)
        assert_told_once(marks, f"{task.definition.title} {PAST[Decision(decision.outcome)]}: {application.reference}")
    assert audit_verify().ok
