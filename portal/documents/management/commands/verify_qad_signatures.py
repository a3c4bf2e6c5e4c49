from typing import Any

from django.core.management.base import BaseCommand

from portal.documents.services import signatures_verify_all


class Command(BaseCommand):
    help = (
        "Check every valid Director signature of a Final QAD against the data as stored now (answers, "
        "evidence records and the files' content). A signature that no longer matches is voided, its sign-off "
        "reopened, and the participant and the Code Bodies told. Suitable for a scheduled job."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        results = signatures_verify_all()
        voided = [(signature, check) for signature, check in results if not check.ok]
        for signature, check in voided:
            self.stdout.write(
                f"VOIDED signature {signature.pk} of {signature.application.reference}: " + " ".join(check.problems)
            )
        self.stdout.write(f"{len(results)} signature{'s' if len(results) != 1 else ''} checked, {len(voided)} voided.")
