"""Extension points through which the apps that hold a task's structured content (the PQS, the PIT
checklist, DIP onboarding, the QAD and its signature) take part in the task's transitions, without the
workflow having to know them.

- A *guard* runs after the generic checks (state, role, comment) and before anything changes; it
  refuses the transition by raising an `ApplicationError` that says what is missing ("the PQS has no
  target migration date").
- An *effect* runs after the task has changed, inside the same transaction and before the audit event
  is written (e.g. freeze the submitted version of a document).

Both are registered per (task code, action) from an app's `AppConfig.ready()`; one rule, one place.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portal.qualification.models import Application, Task


@dataclass(frozen=True)
class TransitionContext:
    actor: Any
    application: "Application"
    task: "Task"
    action: str
    comment: str


Hook = Callable[[TransitionContext], None]

_guards: dict[tuple[str, str], list[Hook]] = defaultdict(list)
_effects: dict[tuple[str, str], list[Hook]] = defaultdict(list)


def register_guard(task_code: str, action: str, hook: Hook) -> None:
    if hook not in _guards[(task_code, str(action))]:
        _guards[(task_code, str(action))].append(hook)


def register_effect(task_code: str, action: str, hook: Hook) -> None:
    if hook not in _effects[(task_code, str(action))]:
        _effects[(task_code, str(action))].append(hook)


def run_guards(context: TransitionContext) -> None:
    for hook in _guards.get((context.task.code, str(context.action)), ()):
        hook(context)


def run_effects(context: TransitionContext) -> None:
    for hook in _effects.get((context.task.code, str(context.action)), ()):
        hook(context)


# The page holding a task's structured content (e.g. the PQS form), by task code: a URL name that
# takes the application id. The task page links to it.
_task_pages: dict[str, str] = {}


def register_task_page(task_code: str, url_name: str) -> None:
    _task_pages[task_code] = url_name


def task_page_url_name(task_code: str) -> str | None:
    return _task_pages.get(task_code)
