"""The core runs the guards and effects other apps register on a task's transitions: guards after the
generic checks and before any change, effects after the change and inside the same transaction."""

import pytest

from portal.accounts.roles import Role
from portal.core.errors import InvalidInput, PermissionDenied
from portal.qualification.hooks import TransitionContext, register_effect, register_guard
from portal.qualification.models import Task
from portal.qualification.services import task_transition
from portal.qualification.tests.helpers import snapshot
from portal.qualification.workflow import Action, TaskState

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(make_application):
    return make_application(route="sit")


@pytest.fixture
def calls():
    return []


def submit_pit(actor, application, comment="PIT exit report attached."):
    return task_transition(
        actor=actor, application_id=application.pk, task_code="pit", action=Action.SUBMIT, comment=comment
    )


def test_a_guard_sees_the_task_before_the_change_and_can_refuse(application, member, calls):
    def guard(context: TransitionContext) -> None:
        calls.append((context.task.code, context.task.state, context.action, context.comment, context.actor))
        raise InvalidInput("The PIT checklist has no results yet.", details={"field": "checklist"})

    register_guard("pit", Action.SUBMIT, guard)
    before = snapshot()

    with pytest.raises(InvalidInput, match="no results yet"):
        submit_pit(member, application)

    assert snapshot() == before
    assert calls == [("pit", TaskState.NOT_STARTED, Action.SUBMIT, "PIT exit report attached.", member)]


def test_guards_run_only_after_the_generic_checks(application, staff, calls):
    register_guard("pit", Action.SUBMIT, lambda context: calls.append("guard"))

    with pytest.raises(PermissionDenied):
        submit_pit(staff(Role.PROGRAMME_ASSURANCE), application)

    assert calls == []


def test_hooks_run_only_for_their_task_and_action(application, member, calls):
    register_guard("pit", Action.ACCEPT, lambda context: calls.append("pit-accept"))
    register_guard("dip_onboarding", Action.SUBMIT, lambda context: calls.append("dip-submit"))
    register_effect("pit", Action.START, lambda context: calls.append("pit-start"))

    submit_pit(member, application)

    assert calls == []


def test_an_effect_sees_the_changed_task_and_its_failure_undoes_everything(application, member, calls):
    def effect(context: TransitionContext) -> None:
        stored = Task.objects.get(pk=context.task.pk)
        calls.append((context.task.state, stored.state))
        raise InvalidInput("The submitted version could not be frozen.")

    register_effect("pit", Action.SUBMIT, effect)
    before = snapshot()

    with pytest.raises(InvalidInput, match="could not be frozen"):
        submit_pit(member, application)

    assert calls == [(TaskState.SUBMITTED, TaskState.SUBMITTED)]
    assert snapshot() == before


def test_a_passing_guard_and_effect_let_the_transition_through(application, member, calls):
    register_guard("pit", Action.SUBMIT, lambda context: calls.append("guard"))
    register_effect("pit", Action.SUBMIT, lambda context: calls.append("effect"))

    task = submit_pit(member, application)

    assert task.state == TaskState.SUBMITTED
    assert calls == ["guard", "effect"]
