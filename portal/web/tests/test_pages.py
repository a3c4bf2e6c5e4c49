"""Every page renders for the roles that use it, and refuses the rest."""

import pytest
from django.urls import reverse

from portal.accounts.roles import Role
from portal.qualification.workflow import ApplicationStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generic_tasks")]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/applications/",
        "/applications/new/",
        "/applications/1/",
        "/applications/1/tasks/pqs/",
        "/work-queue/",
        "/inbox/",
        "/process/",
        "/your-account/",
    ],
)
def test_anonymous_users_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_participant_home_lists_their_applications_and_what_is_next(login, member, make_application):
    application = make_application()
    response = login(member).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your applications" in html
    assert "Start a new application" in html
    assert application.reference in html
    assert "NLEN" in html
    assert "In preparation" in html
    # The first task waits for the participant, who is told so.
    assert "Pre-Qualification Submission and placing-reliance proposal" in html
    assert "Waiting for you" in html


def test_participant_home_does_not_show_another_organisations_applications(
    login, other_member, member, make_application
):
    application = make_application()
    html = login(other_member).get("/").content.decode()
    assert application.reference not in html


def test_staff_home_shows_work_queue_and_counts(login, staff, make_application):
    application = make_application()
    analyst = staff(Role.ELEXON_ANALYST)
    response = login(analyst).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Waiting for you" in html
    assert "Applications by status" in html
    assert f"?status={ApplicationStatus.IN_PREPARATION}" in html
    assert "Start a new application" not in html
    assert application.reference not in html  # nothing waits on the analyst before the PQS is submitted


def test_staff_home_lists_tasks_waiting_for_them(login, staff, make_application, advance):
    application = advance(make_application(), stop_before="pqs")
    from portal.qualification.services import task_transition

    task_transition(
        actor=application.created_by, application_id=application.pk, task_code="pqs", action="submit", comment="PQS"
    )
    html = login(staff(Role.ELEXON_ANALYST)).get("/").content.decode()
    assert application.reference in html
    assert "Pre-Qualification Submission" in html


@pytest.mark.parametrize("role", [Role.DIP_MANAGER, Role.TESTING_ASSURANCE, Role.PAB_SECRETARY, Role.ADMINISTRATOR])
def test_every_role_gets_its_work_queue(login, staff, role):
    response = login(staff(role)).get("/work-queue/")
    assert response.status_code == 200
    assert "Waiting for you" in response.content.decode()


def test_application_page_shows_summary_tasks_and_history(login, member, make_application):
    application = make_application()
    response = login(member).get(f"/applications/{application.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-summary-list" in html
    assert "govuk-task-list" in html
    assert "Cannot start yet" in html
    assert "govuk-task-list__status--cannot-start-yet" in html
    assert "Waiting for you" in html
    assert f"Registered {application.reference}" in html  # the audit history
    assert "Withdraw this application" in html
    assert "Record non-completion" not in html


def test_application_page_offers_non_completion_to_code_bodies(login, staff, make_application):
    application = make_application()
    html = login(staff(Role.ELEXON_ANALYST)).get(f"/applications/{application.pk}/").content.decode()
    assert "Record non-completion" in html
    assert "Withdraw this application" not in html
    # Staff see the participant by name in "who holds it".
    assert "Waiting for Northern Lights Energy Ltd" in html


def test_application_page_names_who_holds_a_task(login, member, make_application, advance):
    application = advance(make_application(), stop_before="dip_onboarding")
    from portal.qualification.services import task_transition

    task_transition(
        actor=member, application_id=application.pk, task_code="dip_onboarding", action="submit", comment="Done"
    )
    html = login(member).get(f"/applications/{application.pk}/").content.decode()
    assert "Waiting for the DIP Manager" in html


def test_another_organisations_application_and_task_answer_404(login, other_member, make_application):
    application = make_application()
    client = login(other_member)
    for url in (
        f"/applications/{application.pk}/",
        f"/applications/{application.pk}/tasks/pqs/",
        f"/applications/{application.pk}/withdraw/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.content.decode()


def test_missing_application_and_task_answer_404(login, member, make_application):
    application = make_application()
    client = login(member)
    assert client.get("/applications/999999/").status_code == 404
    assert client.get(f"/applications/{application.pk}/tasks/nonsense/").status_code == 404


def test_application_list_filters_and_searches(login, staff, make_application, other_org, other_member):
    mine = make_application()
    theirs = make_application(organisation=other_org, actor=other_member)
    client = login(staff(Role.ELEXON_ANALYST))
    html = client.get("/applications/").content.decode()
    assert mine.reference in html and theirs.reference in html
    html = client.get("/applications/", {"q": "RIVP"}).content.decode()
    assert theirs.reference in html and mine.reference not in html
    html = client.get("/applications/", {"status": "active"}).content.decode()
    assert "No applications match these filters" in html
    html = client.get("/applications/", {"route": "sit"}).content.decode()
    assert mine.reference not in html
    # Values that are not offered are ignored rather than refused.
    response = client.get("/applications/", {"status": "bogus", "page": "99"})
    assert response.status_code == 200
    assert mine.reference in response.content.decode()


def test_application_list_paginates(login, staff, make_application, org):
    from portal.factories import MpidFactory

    for n in range(26):
        MpidFactory(organisation=org, code=f"P{n:03d}")
        make_application(mpid=f"P{n:03d}")
    client = login(staff(Role.ELEXON_ANALYST))
    html = client.get("/applications/").content.decode()
    assert "govuk-pagination" in html
    assert "26 applications, page 1 of 2" in html
    html = client.get("/applications/", {"page": 2, "q": "Northern"}).content.decode()
    assert "page 2 of 2" in html
    assert "q=Northern" in html  # filters are kept in the page links


def test_process_page_draws_routes_and_matrix(login, member):
    response = login(member).get("/process/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Non-SIT Supplier &amp; Agent", "SIT", "Non-SIT LDSO", "New-entrant LDSO", "Non-standard pathway"):
        assert name in html
    assert "The approval-routing matrix" in html
    assert "MOA / MEM" in html
    assert "Director sign-off" in html
    assert "Testing Assurance" in html
    assert "Only where the role needs BSC PAB approval" in html


def test_new_application_page_is_for_participants_only(login, staff, member):
    assert login(member).get("/applications/new/").status_code == 200
    response = login(staff(Role.ELEXON_ANALYST)).get("/applications/new/")
    assert response.status_code == 403
    assert "You cannot do this" in response.content.decode()


def test_navigation_depends_on_role(login, member, staff):
    html = login(member).get("/").content.decode()
    for label in ("Home", "Applications", "Work queue", "Inbox", "Process", "API docs", "Your account", "Sign out"):
        assert label in html
    assert "/admin/" not in html
    html = login(staff(Role.ADMINISTRATOR)).get("/").content.decode()
    assert "/admin/" in html


def test_pages_carry_the_csp_nonce_on_every_script(login, member):
    response = login(member).get("/")
    html = response.content.decode()
    nonce = response.wsgi_request.csp_nonce
    assert html.count("<script") == html.count(f'nonce="{nonce}"')
    assert "style=" not in html
    assert "onclick" not in html
