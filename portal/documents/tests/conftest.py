"""Fixtures for the QAD tests: applications walked to each QAD stage with the real services."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.documents.models import QadSubmission
from portal.documents.testing_support import qad_complete_and_submit, qad_sign_final
from portal.documents.workflow import SIGNOFF_TASK, TASK_FOR_KIND
from portal.factories import TEST_PASSWORD
from portal.qualification import hooks
from portal.qualification.models import Application, Task
from portal.qualification.services import task_transition


@pytest.fixture(autouse=True)
def _only_qad_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The QAD tests walk the tasks before the QAD with their generic actions: the hooks other apps
    register on those tasks (and test themselves) are set aside here. Every hook on the QAD tasks and
    the sign-off stays."""
    keep = set(TASK_FOR_KIND.values()) | {SIGNOFF_TASK}
    for name in ("_guards", "_effects"):
        registry = getattr(hooks, name)
        monkeypatch.setattr(hooks, name, defaultdict(list, {k: v for k, v in registry.items() if k[0] in keep}))


@pytest.fixture(autouse=True)
def _forget_password_failures() -> None:
    """Wrong-password counts live in the cache; each test starts without any."""
    cache.clear()


class Stages:
    """Puts an application at a QAD stage: every step is a real transition by a user holding the role."""

    def __init__(self, advance: Callable[..., Application], member: User, director: User, staff: Any) -> None:
        self.advance = advance
        self.member = member
        self.director = director
        self.staff = staff

    @property
    def analyst(self) -> User:
        return self.staff(Role.ELEXON_ANALYST)

    def task(self, application: Application, code: str) -> Task:
        return Task.objects.get(application=application, code=code)

    def review(self, application: Application, code: str, action: str, comment: str = "Reviewed.") -> Task:
        return task_transition(
            actor=self.analyst, application_id=application.pk, task_code=code, action=action, comment=comment
        )

    def initial_open(self, application: Application) -> Application:
        return self.advance(application, stop_before="initial_qad")

    def initial_submitted(self, application: Application) -> Application:
        self.initial_open(application)
        qad_complete_and_submit(actor=self.member, application=application, kind="initial")
        return application

    def initial_accepted(self, application: Application) -> Application:
        self.initial_submitted(application)
        self.review(application, "initial_qad", "accept")
        return application

    def final_open(self, application: Application) -> Application:
        self.initial_accepted(application)
        return self.advance(application, stop_before="final_qad")

    def final_submitted(self, application: Application) -> Application:
        self.final_open(application)
        qad_complete_and_submit(actor=self.member, application=application, kind="final")
        return application

    def final_agreed(self, application: Application) -> Application:
        self.final_submitted(application)
        self.review(application, "final_qad", "accept")
        return application

    def signed(self, application: Application, signer: User | None = None) -> Application:
        self.final_agreed(application)
        qad_sign_final(actor=signer or self.director, application=application, password=TEST_PASSWORD)
        return application

    def version(self, application: Application, kind: str, number: int) -> QadSubmission:
        return QadSubmission.objects.get(application=application, kind=kind, version=number)


@pytest.fixture
def stages(advance: Callable[..., Application], member: User, director: User, staff: Any) -> Stages:
    return Stages(advance, member, director, staff)
