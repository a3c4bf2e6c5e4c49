from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "portal.approvals"
    label = "approvals"
    verbose_name = "Approvals: PAB meetings, deadlines and decisions"

    def ready(self) -> None:
        from portal.approvals.decision_services import decision_path_guard
        from portal.approvals.decisions import DECISION_ACTIONS
        from portal.qualification.hooks import register_guard, register_task_page
        from portal.qualification.process import APPROVAL_CODES

        # A decision is recorded only through `approval_decide`, with its rationale, conditions and
        # meeting; each approval task's page is its body's decision page.
        for code in APPROVAL_CODES:
            for action in DECISION_ACTIONS:
                register_guard(code, action, decision_path_guard)
            register_task_page(code, f"approvals:decision_{code.removeprefix('approval_')}")

        # How the journey helper (demo data, tests) takes decisions.
        from portal.approvals.testing_support import approval_prepare_step, approval_take_step
        from portal.qualification.journey import register_step_preparer, register_step_taker

        register_step_preparer(approval_prepare_step)
        register_step_taker(approval_take_step)
