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

        # Qualification Testing: the exit rules gate submitting QT; the task page is the QT overview.
        from portal.testing.plan_services import qt_exit_guard

        register_guard("qt", Action.SUBMIT, qt_exit_guard)
        register_task_page("qt", "testing:qt_overview")
        from portal.testing.execution_imports import RESULTS_IMPORTER
        from portal.testing.imports import register_importer

        register_importer(RESULTS_IMPORTER)
        from portal.testing.catalogue_imports import CatalogueImporter, RttmImporter

        register_importer(CatalogueImporter())
        register_importer(RttmImporter())

        # How the journey helper (demo data, tests) satisfies the guards above.
        from portal.qualification.journey import register_step_preparer
        from portal.testing.testing_support import pit_prepare_step

        register_step_preparer(pit_prepare_step)
        from portal.testing.plan_testing_support import qt_prepare_step

        register_step_preparer(qt_prepare_step)
