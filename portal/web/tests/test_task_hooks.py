"""The task pages with the content apps' rules in force: a refusal by one of them reaches the page."""

import pytest
from django.urls import NoReverseMatch

from portal.audit.models import AuditEvent
from portal.qualification import hooks
from portal.qualification.models import TaskEntry
from portal.qualification.workflow import TaskState
from portal.web.views import tasks as task_views

pytestmark = pytest.mark.django_db


def test_a_guard_refusal_shows_in_the_error_summary_and_changes_nothing(
    login, member, make_application, task_of, monkeypatch
):
    def refuse(context: hooks.TransitionContext) -> None:
        from portal.core.errors import InvalidInput

        raise InvalidInput("The form of this task is not complete yet: enter the target migration date.")

    monkeypatch.setitem(hooks._guards, ("pqs", "submit"), [refuse])
    application = make_application()
    events = AuditEvent.objects.count()
    response = login(member).post(f"/applications/{application.pk}/tasks/pqs/submit/", {"comment": "Here it is"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "enter the target migration date" in html
    assert "Here it is</textarea>" in html  # what was typed is kept
    assert task_of(application, "pqs").state == TaskState.NOT_STARTED
    assert not TaskEntry.objects.exists()
    assert AuditEvent.objects.count() == events


def test_task_page_links_to_the_page_holding_its_content(login, member, make_application, monkeypatch):
    application = make_application()
    monkeypatch.setitem(hooks._task_pages, "pit", "web:process")

    def fake_reverse(name: str, kwargs: dict[str, int]) -> str:
        if name == "web:process":
            return f"/applications/{kwargs['application_id']}/pit-checklist/"
        raise NoReverseMatch(name)

    monkeypatch.setattr(task_views, "reverse", fake_reverse)
    monkeypatch.setitem(hooks._task_pages, "pqs", "unmounted:page")
    client = login(member)
    html = client.get(f"/applications/{application.pk}/tasks/pit/").content.decode()
    assert f'href="/applications/{application.pk}/pit-checklist/">Open Pre-Integration Testing</a>' in html
    # A content page that is not mounted is simply not linked.
    html = client.get(f"/applications/{application.pk}/tasks/pqs/").content.decode()
    assert "kept on its own page" not in html


def test_sign_off_is_taken_on_its_own_page_not_by_a_bare_button(login, director, make_application, advance):
    application = advance(make_application(), stop_before="director_signoff")
    response = login(director).get(f"/applications/{application.pk}/tasks/director_signoff/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/applications/{application.pk}/qad/sign/"' in html
    assert f'action="/applications/{application.pk}/tasks/director_signoff/sign/"' not in html
