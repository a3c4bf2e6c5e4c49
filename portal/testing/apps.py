from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "portal.testing"
    label = "testing"
    verbose_name = "Testing: PIT and RTTM"

    def ready(self) -> None:
        from portal.qualification.hooks import register_guard, register_task_page
        from portal.qualification.workflow import Action
        from portal.testing.permissions import PIT_TASK
        from portal.testing.services import pit_submit_guard

        register_guard(PIT_TASK, Action.SUBMIT, pit_submit_guard)
        register_task_page(PIT_TASK, "testing:pit_checklist")

        # How the journey helper (demo data, tests) satisfies the guards above.
        from portal.qualification.journey import register_step_preparer
        from portal.testing.testing_support import pit_prepare_step

        register_step_preparer(pit_prepare_step)
