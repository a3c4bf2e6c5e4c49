from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.core.errors import ApplicationError
from portal.documents.services import qad_template_load
from portal.documents.template_data import DEFAULT_TEMPLATE_PATH


class Command(BaseCommand):
    help = (
        "Check a QAD template file and load it as a new template version, which becomes the active template "
        "unless --inactive is given. Every problem in the file is listed, and nothing is loaded while there is one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            nargs="?",
            default=str(DEFAULT_TEMPLATE_PATH),
            help="The template file (JSON). Default: the shipped one.",
        )
        parser.add_argument("--inactive", action="store_true", help="Load it without making it the active template.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            template = qad_template_load(actor=None, content=content, activate=not options["inactive"])
        except ApplicationError as exc:
            problems = exc.details.get("errors") or [exc.message]
            raise CommandError(
                f"{path} was not loaded ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            ) from exc
        self.stdout.write(
            f"Loaded QAD template v{template.version} from {path} ({template.sections.count()} sections, "
            f"{template.questions.count()} questions); it is {template.get_status_display().lower()}."
        )
