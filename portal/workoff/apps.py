from django.apps import AppConfig


class WorkoffConfig(AppConfig):
    name = "portal.workoff"
    label = "workoff"
    verbose_name = "Work-off plans"

    def ready(self) -> None:
        from portal.qualification.hooks import register_guard, register_task_page
        from portal.qualification.journey import register_step_preparer
        from portal.qualification.workflow import Action
        from portal.workoff.permissions import WORKOFF_TASK
        from portal.workoff.services import workoff_accept_guard, workoff_not_required_guard, workoff_submit_guard
        from portal.workoff.testing_support import workoff_prepare_step

        # The `workoff` task is the plan as a whole: submitted once every item is reviewed, accepted
        # once every item is agreed, and never "not required" while it has items.
        register_guard(WORKOFF_TASK, Action.SUBMIT, workoff_submit_guard)
        register_guard(WORKOFF_TASK, Action.ACCEPT, workoff_accept_guard)
        register_guard(WORKOFF_TASK, Action.MARK_NOT_REQUIRED, workoff_not_required_guard)
        register_task_page(WORKOFF_TASK, "workoff:plan")
        # How the journey helper (demo data, tests) satisfies the guards above.
        register_step_preparer(workoff_prepare_step)
