"""The application lifecycle as a Hypothesis state machine: random people take random actions on an
application, on every route and for role groups with different approval matrices, through the real
services; after every step the rules of the process must still hold.

Each example registers one application (Supplier, LDSO, MEM or a Data Service, on a route that takes
it), sometimes walked forward first with the ordinary journey helper so that every stage is reached
within a short walk. Each step then picks an action — a task's own action (start, submit, request
changes, accept, mark not required, sign, complete, and the approval actions taken the generic way),
answering the Final QAD, signing it with password and code, a body's decision (approve, approve with
conditions, defer, reject; the Board's by its secretary or chair), or withdrawing — and a person: more
often one entitled to act, otherwise anyone (a member or director of the applying organisation or of
another one, a signing delegate, any staff role). Invariants checked after every step:

- never qualified unless every body the approval-routing matrix requires for the role group has
  approved, in the current round (a deferred body must decide again), and the tasks match the matrix;
- never signed unless the Final QAD was agreed complete, and the signature is of its agreed version;
- no skipped step: a task is available (or further) only when every dependency is done, and the
  application's status is the one its tasks give;
- a refused action changes nothing (states, audit events, notifications, jobs, records); an action
  that succeeds was taken by somebody entitled to take it;
- the audit chain verifies.

The content rules of the Final QAD, the sign-off, the approval decisions and Service Activation stay
on (the invariants above are about them); those of the PQS, PIT, DIP onboarding, the Initial QAD, QT
and work-off are set aside, so that those tasks are taken by their generic actions (their rules are
tested in their own apps and end to end in `portal/tests/test_end_to_end.py`).

ASVS v5.0.0-2.3.1 (steps in order, none skipped) and 2.3.5 (multi-user approval: the participant
signs, the Code Bodies agree, each required body approves separately).

Each example runs in a transaction rolled back at its end (opened in the machine's constructor,
rolled back in `teardown`), inside the test's own.
"""

import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.core.cache import cache
from django.db import transaction
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from portal.accounts.models import User
from portal.accounts.roles import PARTICIPANT_ROLES, STAFF_ROLES, Role
from portal.approvals.decision_services import approval_decide
from portal.approvals.models import ApprovalDecision, PabTarget
from portal.approvals.services import pab_target_set
from portal.approvals.testing_support import meeting_today
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.calendar import uk_today
from portal.core.errors import ApplicationError
from portal.documents.models import DirectorSignature, QadAnswer, QadSubmission, SigningDelegate
from portal.documents.selectors import declaration_current
from portal.documents.services import qad_sign, signing_delegate_grant
from portal.documents.testing_support import qad_complete_answers
from portal.documents.workflow import SignatureStatus, SubmissionStatus
from portal.factories import TEST_PASSWORD, make_member, make_staff
from portal.notifications.models import Notification, OutboundEmail
from portal.participants.models import ApprovalBody, ApprovalRequirement, Organisation
from portal.qualification import hooks, journey
from portal.qualification.journey import advance_application
from portal.qualification.models import Application, Task, TaskEntry
from portal.qualification.permissions import SEES_ALL, SEES_BODY
from portal.qualification.process import APPROVAL_CODES
from portal.qualification.services import application_create, application_withdraw, task_transition
from portal.qualification.workflow import (
    APPROVING_DECISIONS,
    CLOSED_STATUSES,
    DONE_STATES,
    Action,
    ApplicationStatus,
    Decision,
    Party,
    Stage,
    TaskKind,
    TaskSnapshot,
    TaskState,
    actions_for_kind,
    dependencies_met,
    derive_status,
    holder,
)
from portal.tests.invariants.support import otp_code

pytestmark = pytest.mark.django_db

# Route × market role: every route, and role groups with each approval matrix (Supplier and LDSO need
# all three bodies, MEM the DIP Manager and the REC Code Manager, a Data Service the DIP Manager and
# the BSC PAB). The new-entrant LDSO places reliance or not as the walk marks its PQS.
CASES = (
    ("sit", "SUP"),
    ("non_sit_supplier_agent", "SUP"),
    ("non_sit_supplier_agent", "MEM"),
    ("non_sit_supplier_agent", "ADS"),
    ("non_sit_ldso", "LDSO"),
    ("new_entrant_ldso", "LDSO"),
    ("non_standard", "SDS"),
    ("sit", "UMSDS"),
)
# Where a walk starts: at registration, or walked forward by the journey helper to just before a task
# ("approvals": just after the Director signed).
STARTS = (None, "qt", "final_qad", "director_signoff", "approvals", "approvals")
# The tasks whose content rules stay on.
RULED_TASKS = frozenset({"final_qad", "director_signoff", *APPROVAL_CODES, "service_activation"})
HELPERS_KEPT = frozenset({"portal.documents.testing_support", "portal.approvals.testing_support"})

APPLICANT = ("member", "director", "delegate")
OUTSIDERS = ("other_member", "other_director")
PEOPLE = (*APPLICANT, *OUTSIDERS, *sorted(role.value for role in STAFF_ROLES))

# How often each kind of step is drawn: mostly task actions and decisions, rarely a withdrawal (which
# ends the walk).
STEP_KINDS = ("task",) * 30 + ("answer_final",) * 5 + ("sign",) * 5 + ("decide",) * 16 + ("withdraw",)
# Steps still taken on a closed application (each must be refused), before the walk idles.
STEPS_AFTER_CLOSING = 3
DECISIONS = (
    *(Decision.APPROVED,) * 6,
    Decision.APPROVED_WITH_CONDITIONS,
    Decision.DEFERRED,
    Decision.REJECTED,
)
COUNTED = (
    AuditEvent,
    Notification,
    OutboundEmail,
    DBTaskResult,
    TaskEntry,
    DirectorSignature,
    ApprovalDecision,
    QadSubmission,
    QadAnswer,
    PabTarget,
)


@dataclass
class Cast:
    """Everyone who may try something, made once per test (outside the examples' transactions)."""

    people: dict[str, User]
    org: Organisation
    mpid: str


def cast_make(org: Organisation, other_org: Organisation) -> Cast:
    people: dict[str, User] = {
        "member": make_member(org, email="sm.member@northern.test"),
        "director": make_member(org, director=True, email="sm.director@northern.test"),
        "delegate": make_member(org, email="sm.delegate@northern.test"),
        "other_member": make_member(other_org, email="sm.member@rival.test"),
        "other_director": make_member(other_org, director=True, email="sm.director@rival.test"),
    }
    for role in sorted(STAFF_ROLES):
        people[role.value] = make_staff(role, email=f"sm.{role.value}@bodies.test")
    signing_delegate_grant(actor=people["director"], organisation_id=org.pk, user_id=people["delegate"].pk)
    return Cast(people=people, org=org, mpid=org.mpids.get().code)


class Lifecycle(RuleBasedStateMachine):
    cast: ClassVar[Cast]
    # What the walks reached, over all examples: the test checks they reached every part of the process.
    seen: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self._example = transaction.atomic()
        self._example.__enter__()
        self.application: Application | None = None
        self.required: frozenset[str] = frozenset()
        self.steps = 0
        self.steps_closed = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    # --- who is who ---------------------------------------------------------------------------------

    def person(self, key: str) -> User:
        return self.cast.people[key]

    @property
    def app(self) -> Application:
        assert self.application is not None
        return self.application

    def sees(self, key: str) -> bool:
        if key in APPLICANT:
            return True
        if key in OUTSIDERS:
            return False
        role = Role(key)
        return role in SEES_ALL or (role in SEES_BODY and SEES_BODY[role] in self.required)

    def holds(self, key: str, roles: list[str]) -> bool:
        """May the person act in one of `roles` on this application (the oracle the services must agree
        with: written from the process definition, not from the permission code)."""
        for name in roles:
            role = Role(name)
            if role == Role.PARTICIPANT_MEMBER and key in APPLICANT:
                return True
            if role == Role.PARTICIPANT_DIRECTOR and key == "director":
                return True
            if role not in PARTICIPANT_ROLES and key == role.value and self.sees(key):
                return True
        return False

    def may_sign(self, key: str) -> bool:
        return key == "director" or (key == "delegate" and ApprovalBody.BSC_PAB not in self.required)

    def pick(self, data: st.DataObject, entitled: list[str], *, share: int = 7) -> str:
        """In `share` cases out of ten one of the people entitled to act (when there is one), otherwise
        anyone."""
        if entitled and data.draw(st.integers(0, 9), label="entitled?") < share:
            return data.draw(st.sampled_from(sorted(entitled)), label="who")
        return data.draw(st.sampled_from(PEOPLE), label="who")

    # --- what the database holds --------------------------------------------------------------------

    def tasks(self) -> dict[str, Task]:
        return {t.code: t for t in Task.objects.filter(application=self.app).select_related("definition")}

    def snapshot(self) -> tuple[Any, ...]:
        application = Application.objects.values_list("status", "closed_at", "qualified_at").get(pk=self.app.pk)
        tasks = tuple(
            Task.objects.filter(application=self.app)
            .order_by("code")
            .values_list("code", "state", "decision", "waiting_on", "completed_at")
        )
        signatures = tuple(DirectorSignature.objects.order_by("pk").values_list("pk", "status"))
        submissions = tuple(QadSubmission.objects.order_by("pk").values_list("pk", "status", "version"))
        return application, tasks, signatures, submissions, tuple(m._default_manager.count() for m in COUNTED)

    # --- taking a step --------------------------------------------------------------------------------

    def attempt(self, what: str, who: str, entitled: bool, action: Callable[[], Any], *, changes: bool = True) -> None:
        """Take the action; a refusal must change nothing, a success must be by someone entitled."""
        self.steps += 1
        before = self.snapshot()
        final_before = Task.objects.filter(application=self.app, code="final_qad").values_list("state", flat=True)
        final_agreed_before = list(final_before) == [TaskState.COMPLETED]
        signatures_before = DirectorSignature.objects.count()
        try:
            action()
        except ApplicationError as refused:
            note(f"{self.steps}. {what} by {who}: refused ({refused.code}: {refused.message})")
            self.seen["refused"] += 1
            import os

            if os.environ.get("SM_DEBUG"):
                print("REFUSED", what, who, entitled, refused.message[:100])
            assert self.snapshot() == before, f"the refused “{what}” by {who} changed something"
            return
        note(f"{self.steps}. {what} by {who}: done")
        self.seen[f"done: {what.split(' “')[0]}"] += 1
        self.seen[f"status: {Application.objects.get(pk=self.app.pk).status}"] += 1
        assert entitled, f"{who} was allowed to {what}, which the process gives to others"
        if changes:
            assert self.snapshot() != before, f"“{what}” by {who} succeeded but changed nothing"
        if DirectorSignature.objects.count() > signatures_before:
            assert final_agreed_before, "the Final QAD was signed before the Code Bodies agreed it complete"

    @initialize(case=st.sampled_from(CASES), start=st.sampled_from(STARTS), reliance=st.booleans())
    def register(self, case: tuple[str, str], start: str | None, reliance: bool) -> None:
        route, market_role = case
        org = self.cast.org
        org.is_new_entrant = route == "new_entrant_ldso"
        org.save(update_fields=["is_new_entrant"])
        self.application = application_create(
            actor=self.person("member"),
            organisation_id=org.pk,
            mpid_code=self.cast.mpid,
            market_role_code=market_role,
            route_code=route,
        )
        self.required = frozenset(
            ApprovalRequirement.objects.filter(role_group=self.app.market_role.role_group).values_list(
                "body", flat=True
            )
        )
        note(f"{self.app.reference}: {market_role} on {route}, needs {sorted(self.required)}, starts at {start}")
        if start is not None:
            advance_application(
                self.app,
                actor_for=self.actor_for,
                stop_before="director_signoff" if start == "approvals" else start,
                skip_optional=not reliance,
                password=TEST_PASSWORD,
            )
        if start == "approvals":
            self.sign(self.person("director"))

    def sign(self, user: User) -> None:
        cache.clear()  # a code is single-use for 30 seconds; the examples run faster than that
        qad_sign(
            actor=user,
            application_id=self.app.pk,
            password=TEST_PASSWORD,
            declaration_version=declaration_current().version,
            otp_code=otp_code(user),
        )

    def actor_for(self, task: Task, role: Role) -> User:
        if role == Role.PARTICIPANT_DIRECTOR:
            return self.person("director")
        if role == Role.PARTICIPANT_MEMBER:
            return self.person("member")
        return self.person(role.value)

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        if self.app.is_closed:
            self.steps_closed += 1
            if self.steps_closed > STEPS_AFTER_CLOSING:
                return
        kind = data.draw(st.sampled_from(STEP_KINDS), label="kind")
        getattr(self, f"step_{kind}")(data)
        self.app.refresh_from_db()

    def step_task(self, data: st.DataObject) -> None:
        """A task's own action, taken the generic way (`task_transition`)."""
        tasks = self.tasks()
        every = [(t, tr) for t in tasks.values() for tr in actions_for_kind(t.definition.kind)]
        # The actions open in the tasks' present states, but for the sign-off and the decisions, which
        # have their own steps below (their generic actions stay in `every`, to be refused).
        open_now = [(t, tr) for t, tr in every if t.state in tr.sources and self.generic(t, tr.action)]
        # The step the process waits for on each task (as a participant or reviewer would take it).
        expected = [(t, tr) for t, tr in open_now if tr.action in self.expected_actions(t)]
        mode = data.draw(st.integers(0, 9), label="which actions")
        pool = expected if expected and mode < 5 else open_now if open_now and mode < 8 else every
        task, transition = data.draw(st.sampled_from(pool), label="task action")
        entitled = [k for k in PEOPLE if self.holds(k, task.definition.roles_for(transition.party))]
        who = self.pick(data, entitled)
        legal = (
            task.state in transition.sources
            and who in entitled
            and (not transition.optional_only or task.definition.is_optional)
            and not self.app.is_closed
            and self.generic(task, transition.action)
        )
        self.attempt(
            f"{transition.action} “{task.code}”",
            who,
            legal,
            lambda: task_transition(
                actor=self.person(who),
                application_id=self.app.pk,
                task_code=task.code,
                action=transition.action,
                comment=f"Step {self.steps}.",
            ),
        )

    @staticmethod
    def expected_actions(task: Task) -> set[Action]:
        """What the party holding the task would usually do next: accept a submission (or send it back),
        submit (or mark an optional task not required), answer a deferral, start and complete
        Service Activation."""
        party = holder(task.definition.kind, task.state)
        if party is None:
            return set()
        kind = task.definition.kind
        if kind == TaskKind.SUBMISSION:
            return {Action.ACCEPT} if party == Party.ASSURER else {Action.SUBMIT, Action.MARK_NOT_REQUIRED}
        if kind == TaskKind.APPROVAL:
            return {Action.SUBMIT} if party == Party.ACTOR else set()
        if kind == TaskKind.ACTIVATION:
            return {Action.START, Action.COMPLETE}
        return set()

    @staticmethod
    def generic(task: Task, action: str) -> bool:
        """Whether the generic action may take this step: the sign-off needs a signature (`qad_sign`), a
        decision needs its rationale (`approval_decide`); only the participant's answer to a deferral
        is an approval task's generic step."""
        kind = task.definition.kind
        return kind != TaskKind.SIGNOFF and (kind != TaskKind.APPROVAL or action == Action.SUBMIT)

    def step_answer_final(self, data: st.DataObject) -> None:
        """Answer every question of the Final QAD (with evidence), as the participant does before submitting."""
        who = self.pick(data, list(APPLICANT))
        self.attempt(
            "answer the Final QAD",
            who,
            who in APPLICANT,
            lambda: qad_complete_answers(actor=self.person(who), application=self.app, kind="final"),
            changes=False,  # answering what is already answered changes nothing
        )

    def step_sign(self, data: st.DataObject) -> None:
        who = self.pick(data, [k for k in APPLICANT if self.may_sign(k)])
        self.attempt("sign the Final QAD", who, self.may_sign(who), lambda: self.sign(self.person(who)))

    def step_decide(self, data: st.DataObject) -> None:
        tasks = self.tasks()
        waiting = sorted(
            t.definition.approval_body
            for t in tasks.values()
            if t.definition.kind == TaskKind.APPROVAL and holder(t.definition.kind, t.state) == Party.ASSURER
        )
        # More often a body whose decision is awaited, otherwise any body (needed by the role or not).
        bodies = waiting if waiting and data.draw(st.integers(0, 9), label="awaited?") < 7 else ApprovalBody.values
        body = data.draw(st.sampled_from(sorted(bodies)), label="body")
        outcome = data.draw(st.sampled_from(DECISIONS), label="outcome")
        task = tasks.get(f"approval_{body}")
        entitled = [k for k in PEOPLE if task is not None and self.holds(k, task.definition.assurer_roles)]
        who = self.pick(data, entitled)
        if body == ApprovalBody.BSC_PAB and task is not None:
            self.board_meets_today()
        self.attempt(
            f"decide {body}: {outcome}",
            who,
            who in entitled,
            lambda: approval_decide(
                actor=self.person(who),
                application_id=self.app.pk,
                body=body,
                outcome=outcome,
                rationale=f"Decision at step {self.steps}.",
                condition_ids=[],
            ),
        )

    def board_meets_today(self) -> None:
        """Before the Board decides, an analyst puts the application on today's agenda when it can be."""
        current = PabTarget.objects.filter(application=self.app, is_current=True).select_related("meeting").first()
        if current is not None and current.meeting.date <= uk_today():
            return
        meeting = meeting_today()
        with contextlib.suppress(ApplicationError):  # not yet signed, say: the decision is refused then
            pab_target_set(
                actor=self.person(Role.ELEXON_ANALYST.value),
                application_id=self.app.pk,
                meeting_id=meeting.pk,
                reason="The Board meets today." if current is not None else "",
                late_reason="Added to today's agenda.",
            )

    def step_withdraw(self, data: st.DataObject) -> None:
        who = self.pick(data, list(APPLICANT), share=2)  # rarely: it ends the walk
        self.attempt(
            "withdraw",
            who,
            who in APPLICANT,
            lambda: application_withdraw(actor=self.person(who), application_id=self.app.pk, reason="Withdrawn."),
        )

    # --- invariants ----------------------------------------------------------------------------------

    @invariant()
    def qualified_only_with_every_required_approval(self) -> None:
        if self.application is None:
            return
        application = Application.objects.get(pk=self.app.pk)
        tasks = self.tasks()
        approvals = {t.definition.approval_body: t for t in tasks.values() if t.definition.kind == TaskKind.APPROVAL}
        assert set(approvals) == set(self.required), "the approval tasks are not those the routing matrix requires"
        all_approved = all(
            t.state == TaskState.COMPLETED and t.decision in APPROVING_DECISIONS for t in approvals.values()
        )
        past_qualification = {
            ApplicationStatus.QUALIFIED,
            ApplicationStatus.IN_SERVICE_ACTIVATION,
            ApplicationStatus.ACTIVE,
        }
        if application.status in past_qualification:
            assert all_approved, f"{application.status} without every required approval"
            assert application.qualified_at is not None
            for body in self.required:
                latest = ApprovalDecision.objects.filter(application=application, body=body).order_by("-pk").first()
                assert latest is not None and latest.outcome in APPROVING_DECISIONS, (
                    f"qualified, but the {body}'s latest decision is not an approval"
                )
        if application.qualified_at is not None:
            # Once qualified it stays so (nothing in the walk takes an approval back).
            assert application.status in past_qualification, application.status
        if all_approved and application.status not in CLOSED_STATUSES:
            assert application.status in past_qualification, "every body approved but it is not qualified"

    @invariant()
    def signed_only_when_the_final_qad_was_agreed(self) -> None:
        if self.application is None:
            return
        tasks = self.tasks()
        signoff, final = tasks["director_signoff"], tasks["final_qad"]
        valid = list(DirectorSignature.objects.filter(application=self.app, status=SignatureStatus.VALID))
        if signoff.state == TaskState.COMPLETED:
            assert final.state == TaskState.COMPLETED, "signed off while the Final QAD is not agreed complete"
            assert len(valid) == 1, f"signed off with {len(valid)} valid signatures"
            latest = QadSubmission.objects.filter(application=self.app, kind="final").order_by("-version").first()
            assert latest is not None and valid[0].submission_id == latest.pk
            assert latest.status == SubmissionStatus.SUBMITTED
        for signature in DirectorSignature.objects.filter(application=self.app):
            accepted = (
                TaskEntry.objects.filter(task=final, action=Action.ACCEPT, created_at__lte=signature.signed_at)
                .order_by("-pk")
                .first()
            )
            assert accepted is not None, "a signature exists but the Final QAD was never agreed complete before it"

    @invariant()
    def no_step_is_skipped(self) -> None:
        if self.application is None:
            return
        application = Application.objects.get(pk=self.app.pk)
        tasks = self.tasks()
        states = {code: TaskState(t.state) for code, t in tasks.items()}
        for task in tasks.values():
            met = dependencies_met(task.definition.depends_on, states)
            if task.state != TaskState.CANNOT_START:
                assert met, f"“{task.code}” is {task.state} while a task it depends on is not done"
            elif application.status not in CLOSED_STATUSES:
                assert not met, f"“{task.code}” still cannot start although what it waits for is done"
            if task.state in DONE_STATES or task.state == TaskState.SUBMITTED:
                entries = set(TaskEntry.objects.filter(task=task).values_list("action", flat=True))
                assert entries, f"“{task.code}” is {task.state} with no step recorded in its thread"
        if application.status not in CLOSED_STATUSES:
            derived = derive_status(
                TaskSnapshot(
                    code=t.code,
                    stage=Stage(t.definition.stage),
                    state=TaskState(t.state),
                    kind=TaskKind(t.definition.kind),
                    decision=Decision(t.decision) if t.decision else None,
                )
                for t in tasks.values()
            )
            assert application.status == derived, f"status {application.status}, but its tasks say {derived}"

    @invariant()
    def every_transition_is_audited_and_the_chain_verifies(self) -> None:
        if self.application is None:
            return
        per_task: dict[int, int] = defaultdict(int)
        for task_id in TaskEntry.objects.filter(task__application=self.app).values_list("task_id", flat=True):
            per_task[task_id] += 1
        audited: dict[int, int] = defaultdict(int)
        for target_id in (
            AuditEvent.objects.filter(
                application_id=self.app.pk, target_type="qualification.task", action__startswith="task."
            )
            .exclude(action="task.reopen")
            .values_list("target_id", flat=True)
        ):
            audited[int(target_id)] += 1
        assert dict(per_task) == dict(audited), "a task step without exactly one audit event"
        report = audit_verify()
        assert report.ok, report


def keep_only_ruled_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("_guards", "_effects"):
        registry = getattr(hooks, name)
        kept = {key: list(value) for key, value in registry.items() if key[0] in RULED_TASKS}
        monkeypatch.setattr(hooks, name, defaultdict(list, kept))
    for name in ("_preparers", "_takers"):
        monkeypatch.setattr(journey, name, [h for h in getattr(journey, name) if h.__module__ in HELPERS_KEPT])


def test_the_lifecycle_rules_hold_whatever_anyone_tries(
    monkeypatch: pytest.MonkeyPatch, org: Organisation, other_org: Organisation
) -> None:
    keep_only_ruled_hooks(monkeypatch)
    Lifecycle.cast = cast_make(org, other_org)
    Lifecycle.seen = Counter()
    assert SigningDelegate.objects.filter(user=Lifecycle.cast.people["delegate"]).exists()
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        ),
    )
    seen = Lifecycle.seen
    print("What the walks reached:", dict(sorted(seen.items())))  # shown with -s
    for reached in (
        "done: submit",
        "done: accept",
        "done: request_changes",
        "done: mark_not_required",
        "done: sign the Final QAD",
        "done: decide dip_manager: approved",
        "done: decide bsc_pab: approved",
        "done: decide rec_code_manager: approved",
        "status: qualified",
        "status: rejected",
        "status: withdrawn",
    ):
        assert seen[reached], f"no walk reached “{reached}”: the walks no longer cover the process"
    assert any(key.endswith(": deferred") for key in seen), "no walk had a deferral"
