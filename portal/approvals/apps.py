from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "portal.approvals"
    label = "approvals"
    verbose_name = "Approvals: PAB meetings and deadlines"

    def ready(self) -> None:
        from portal.approvals.permissions import PAB_TASK
        from portal.qualification.hooks import register_task_page

        # The BSC PAB approval task links to the application's target meeting and its deadlines.
        register_task_page(PAB_TASK, "approvals:pab_target")
