"""How tasks and statuses read on the pages."""

import pytest
from django.test import Client

from portal.accounts.roles import Role
from portal.core.pages import safe_download_name
from portal.qualification.services import task_transition
from portal.web.presenters import application_status_tag, roles_phrase, waiting_for

pytestmark = pytest.mark.usefixtures("generic_tasks")


def test_roles_phrase_names_bodies_once_and_joins_the_rest():
    assert roles_phrase(["elexon_analyst", "qsp", "rec_code_manager"]) == "the Code Bodies"
    assert roles_phrase(["pab_secretary", "pab_chair"]) == "the BSC PAB"
    assert roles_phrase(["programme_assurance", "testing_assurance"]) == "the MHHS Programme or Testing Assurance"
    assert (
        roles_phrase(["elexon_analyst", "rec_code_manager", "testing_assurance"])
        == "an Elexon qualification analyst, the REC Code Manager or Testing Assurance"
    )
    assert roles_phrase(["participant_member"], organisation_name="Acme Ltd") == "Acme Ltd"
    assert roles_phrase([]) == "nobody"


def test_status_tags_have_text_and_colour():
    tag = application_status_tag("rejected")
    assert (tag.text, tag.colour) == ("Rejected", "red")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\evidence\\plan.pdf", "plan.pdf"),
        ('a";b.pdf', "ab.pdf"),
        ("line\r\nbreak.pdf", "linebreak.pdf"),
        ("...", "evidence"),
        ("résumé.pdf", "résumé.pdf"),
    ],
)
def test_download_names_are_safe(name, expected):
    assert safe_download_name(name) == expected


@pytest.mark.django_db
def test_waiting_for_names_the_holder_from_each_side(make_application, advance, member, director, staff):
    application = advance(make_application(), stop_before="director_signoff")
    task = application.tasks.select_related("definition").get(code="director_signoff")
    assert waiting_for(member, task) == "Waiting for a Company Director"
    assert waiting_for(director, task) == "Waiting for you"
    advance(application, stop_before="approval_bsc_pab")
    task = application.tasks.select_related("definition").get(code="approval_bsc_pab")
    assert waiting_for(member, task) == "Waiting for the BSC PAB"
    assert waiting_for(staff(Role.PAB_CHAIR), task) == "Waiting for you"
    task_transition(
        actor=staff(Role.PAB_SECRETARY),
        application_id=application.pk,
        task_code="approval_bsc_pab",
        action="defer",
        comment="More evidence",
    )
    task.refresh_from_db()
    assert waiting_for(member, task) == "Waiting for you"
    assert waiting_for(staff(Role.PAB_CHAIR), task) == "Waiting for Northern Lights Energy Ltd"


@pytest.mark.django_db
def test_a_stale_form_gets_the_portal_csrf_page(member, make_application):
    application = make_application()
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(f"/applications/{application.pk}/withdraw/", {"reason": "x"})
    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()
