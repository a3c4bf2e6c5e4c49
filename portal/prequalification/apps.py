from django.apps import AppConfig


class PrequalificationConfig(AppConfig):
    name = "portal.prequalification"
    label = "prequalification"
    verbose_name = "Pre-qualification and placing reliance"

    def ready(self) -> None:
        from portal.prequalification import services
        from portal.prequalification.rules import PQS_TASK
        from portal.qualification.hooks import register_effect, register_guard, register_task_page
        from portal.qualification.workflow import Action

        register_guard(PQS_TASK, Action.SUBMIT, services.guard_submit)
        register_guard(PQS_TASK, Action.ACCEPT, services.guard_accept)
        register_guard(PQS_TASK, Action.REQUEST_CHANGES, services.guard_request_changes)
        register_effect(PQS_TASK, Action.SUBMIT, services.effect_submit)
        register_effect(PQS_TASK, Action.REQUEST_CHANGES, services.effect_request_changes)
        register_effect(PQS_TASK, Action.ACCEPT, services.effect_accept)
        register_task_page(PQS_TASK, "prequalification:pqs")

        # How the journey helper (demo data, tests) satisfies the guards above.
        from portal.prequalification.testing import pqs_prepare_step
        from portal.qualification.journey import register_step_preparer

        register_step_preparer(pqs_prepare_step)
