from django.apps import AppConfig


def register_activation_hooks() -> None:
    """The hand-off's part in the task transitions, and how the journey helper satisfies its guard.
    Called at start-up, and by tests that set the other apps' content rules aside."""
    from portal.activation.permissions import ACTIVATION_TASK, APPROVAL_TASKS
    from portal.activation.services import (
        handoff_complete_guard,
        handoff_open_on_qualification,
        handoff_record_completion,
        handoff_record_start,
    )
    from portal.activation.testing_support import activation_prepare_step
    from portal.qualification.hooks import register_effect, register_guard, register_task_page
    from portal.qualification.journey import register_step_preparer
    from portal.qualification.workflow import Action

    # The approval that makes the application MHHS Qualified opens its hand-off.
    for task_code in APPROVAL_TASKS:
        for action in (Action.APPROVE, Action.APPROVE_WITH_CONDITIONS):
            register_effect(task_code, action, handoff_open_on_qualification)
    register_effect(ACTIVATION_TASK, Action.START, handoff_record_start)
    register_guard(ACTIVATION_TASK, Action.COMPLETE, handoff_complete_guard)
    register_effect(ACTIVATION_TASK, Action.COMPLETE, handoff_record_completion)
    register_task_page(ACTIVATION_TASK, "activation:handoff")
    register_step_preparer(activation_prepare_step)


class ActivationConfig(AppConfig):
    name = "portal.activation"
    label = "activation"
    verbose_name = "Service Activation hand-off"

    def ready(self) -> None:
        register_activation_hooks()
