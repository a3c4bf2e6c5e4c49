from django.apps import AppConfig


class DipConfig(AppConfig):
    name = "portal.dip"
    label = "dip"
    verbose_name = "DIP onboarding"

    def ready(self) -> None:
        from portal.dip.permissions import DIP_TASK
        from portal.dip.services import dip_accept_guard, dip_submit_guard
        from portal.qualification.hooks import register_guard, register_task_page
        from portal.qualification.workflow import Action

        register_guard(DIP_TASK, Action.SUBMIT, dip_submit_guard)
        register_guard(DIP_TASK, Action.ACCEPT, dip_accept_guard)
        register_task_page(DIP_TASK, "dip:onboarding")

        # How the journey helper (demo data, tests) satisfies the guards above.
        from portal.dip.testing_support import dip_prepare_step
        from portal.qualification.journey import register_step_preparer

        register_step_preparer(dip_prepare_step)
