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
