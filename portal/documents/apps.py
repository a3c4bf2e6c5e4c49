from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "portal.documents"
    label = "documents"
    verbose_name = "Documents and evidence"

    def ready(self) -> None:
        from portal.documents import services
        from portal.documents.workflow import SIGNOFF_TASK, TASK_FOR_KIND, QadKind
        from portal.qualification.hooks import register_effect, register_guard, register_task_page
        from portal.qualification.workflow import Action

        for task_code in TASK_FOR_KIND.values():
            register_guard(task_code, Action.SUBMIT, services.guard_qad_submit)
            register_effect(task_code, Action.SUBMIT, services.effect_qad_submit)
            register_effect(task_code, Action.REQUEST_CHANGES, services.effect_qad_review_ended)
            register_effect(task_code, Action.ACCEPT, services.effect_qad_review_ended)
        register_guard(TASK_FOR_KIND[QadKind.FINAL], Action.ACCEPT, services.guard_final_qad_accept)
        register_guard(SIGNOFF_TASK, Action.SIGN, services.guard_signoff_sign)
        register_task_page(TASK_FOR_KIND[QadKind.INITIAL], "documents:initial_qad")
        register_task_page(TASK_FOR_KIND[QadKind.FINAL], "documents:final_qad")
        register_task_page(SIGNOFF_TASK, "documents:qad_sign")

        # How the journey helper (demo data, tests) satisfies the guards above.
        from portal.documents.testing_support import qad_prepare_step, qad_sign_step
        from portal.qualification.journey import register_step_preparer, register_step_taker

        register_step_preparer(qad_prepare_step)
        register_step_taker(qad_sign_step)
