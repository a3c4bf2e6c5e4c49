"""Bad input gets a clear message and changes nothing: registering an application, and the comment,
files, task and action of a transition."""

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.accounts.roles import Role
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from portal.participants.models import MPID_PATTERN, MarketRole
from portal.qualification import services
from portal.qualification.models import Application, Attachment, Route
from portal.qualification.services import application_create, application_withdraw, task_transition
from portal.qualification.tests.helpers import snapshot
from portal.qualification.workflow import ApplicationStatus, TaskState

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(member, org):
    def call(**overrides):
        arguments = {
            "actor": member,
            "organisation_id": org.pk,
            "mpid_code": "NLEN",
            "market_role_code": "SUP",
            "route_code": "sit",
        }
        return application_create(**{**arguments, **overrides})

    return call


def refused(call, error, match=None, **kwargs):
    """`call(**kwargs)` raises `error` (its message matching `match`) and nothing is stored."""
    before = snapshot()
    with pytest.raises(error, match=match) as raised:
        call(**kwargs)
    assert snapshot() == before
    return raised.value


# --- registering an application ----------------------------------------------------------------


@pytest.mark.parametrize("code", ["nlen", " NLEN ", "nLeN\n"])
def test_an_mpid_is_normalised(register, code):
    assert register(mpid_code=code).mpid.code == "NLEN"


@pytest.mark.parametrize("code", ["AB1", "ABCDE", "AB-1", "AB 1", "ÄBCD", "ab_1", "NLEN\x00", "１２３４"])
def test_a_malformed_mpid_is_refused_with_the_format(register, code):
    error = refused(register, InvalidInput, mpid_code=code)

    assert "exactly 4 upper-case letters or digits" in error.message
    assert error.details == {"field": "mpid"}


def test_a_blank_mpid_is_asked_for(register):
    error = refused(register, InvalidInput, match="Enter the MPID", mpid_code="  ")
    assert error.details == {"field": "mpid"}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(max_size=8))
def test_anything_not_shaped_like_an_mpid_is_refused(register, text):
    normalised = text.strip().upper() if text.strip().isascii() else text.strip()
    if re.fullmatch(MPID_PATTERN, normalised):
        return
    with pytest.raises(InvalidInput):
        register(mpid_code=text)
    assert not Application.objects.exists()


def test_the_mpid_of_another_organisation_is_refused(register, other_org):
    error = refused(register, InvalidInput, mpid_code="RIVP")
    assert error.message == "Northern Lights Energy Ltd holds no MPID RIVP."
    refused(register, InvalidInput, match="holds no MPID ZZZZ", mpid_code="ZZZZ")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"market_role_code": "XYZ"}, "market_role", "Choose a market role"),
        ({"route_code": "nowhere"}, "route", "Choose a qualification route"),
        (
            {"market_role_code": "LDSO", "route_code": "non_sit_supplier_agent"},
            "route",
            "The Non-SIT Supplier & Agent route does not take the LDSO role group.",
        ),
        (
            {"market_role_code": "MEM", "route_code": "non_sit_ldso"},
            "route",
            "The Non-SIT LDSO route does not take the MOA / MEM role group.",
        ),
        (
            {"market_role_code": "LDSO", "route_code": "new_entrant_ldso"},
            "route",
            "The New-entrant LDSO route is only for new entrants, and Northern Lights Energy Ltd is not one.",
        ),
    ],
)
def test_choices_outside_the_lists_are_refused(register, overrides, field, message):
    error = refused(register, InvalidInput, **overrides)
    assert error.details == {"field": field}
    assert error.message.startswith(message)


def test_inactive_market_roles_and_routes_are_refused(register):
    MarketRole.objects.filter(code="SUP").update(is_active=False)
    refused(register, InvalidInput, match="Choose a market role")
    MarketRole.objects.filter(code="SUP").update(is_active=True)
    Route.objects.filter(code="sit").update(is_active=False)
    refused(register, InvalidInput, match="Choose a qualification route")


@pytest.mark.parametrize("who", ["other_member", "staff", "missing_organisation"])
def test_only_members_register_for_their_organisation(register, request, staff, org, who):
    if who == "missing_organisation":
        refused(register, NotFound, organisation_id=org.pk + 1000)
        return
    actor = staff(Role.ELEXON_ANALYST) if who == "staff" else request.getfixturevalue(who)
    refused(register, NotFound, match="No organisation was found", actor=actor)


def test_a_duplicate_open_application_is_refused(register):
    register()
    error = refused(register, Conflict)
    assert error.message == "There is already an open application for NLEN as Supplier."
    # The same MPID in another role, or the same role on another MPID, is a different application.
    assert register(market_role_code="MEM").market_role.code == "MEM"


def test_the_database_refuses_a_second_open_application(register):
    """The partial unique constraint holds even when the service's own check is bypassed."""
    first = register()

    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            organisation=first.organisation,
            mpid=first.mpid,
            market_role=first.market_role,
            route=first.route,
            created_by=first.created_by,
        )


def test_two_requests_at_once_give_a_conflict_not_a_crash(register, monkeypatch):
    """When another request commits the same application between the check and the insert, the
    database constraint answers and the service reports a conflict."""
    register()
    monkeypatch.setattr(services, "CLOSED_STATUSES", frozenset(ApplicationStatus))  # the check sees none open

    error = refused(register, Conflict)
    assert "already an open application for NLEN" in error.message


def test_a_closed_application_does_not_block_a_new_one(register, member):
    first = register()
    application_withdraw(actor=member, application_id=first.pk, reason="Wrong route chosen.")

    second = register(route_code="non_standard")

    assert second.pk != first.pk
    # ... and at the database level too: two closed and one open row for the same MPID and role.
    application_withdraw(actor=member, application_id=second.pk, reason="Changed our plans.")
    Application.objects.create(
        organisation=first.organisation,
        mpid=first.mpid,
        market_role=first.market_role,
        route=first.route,
        created_by=member,
    )


def test_a_new_entrant_may_take_the_new_entrant_route(register, org):
    org.is_new_entrant = True
    org.save()
    assert register(market_role_code="LDSO", route_code="new_entrant_ldso").route.code == "new_entrant_ldso"


# --- a transition's input ----------------------------------------------------------------------


@pytest.fixture
def pit(make_application):
    """A SIT application, whose PIT the member may submit at once."""
    return make_application(route="sit")


def submit(member, application, **kwargs):
    arguments = {"actor": member, "application_id": application.pk, "task_code": "pit", "action": "submit"}
    return task_transition(**{**arguments, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"action": "fly"}, InvalidTransition, "“fly” is not an action of the task “Pre-Integration Testing”"),
        ({"action": "approve"}, InvalidTransition, "“approve” is not an action of the task"),
        ({"action": ""}, InvalidTransition, "is not an action"),
        ({"task_code": "nonsense"}, NotFound, "That application has no such task"),
        ({"task_code": "pqs"}, NotFound, "no such task"),  # SIT has no PQS
        ({"application_id": 999999}, NotFound, "No application was found"),
        ({"comment": "x" * 5001}, InvalidInput, "5000 characters or fewer"),
        ({"comment": "null\x00byte"}, InvalidInput, "control characters"),
        ({"comment": "bell\x07"}, InvalidInput, "control characters"),
    ],
)
def test_bad_transition_input_is_refused(pit, member, kwargs, error, match):
    raised = refused(submit, error, match=match, member=member, application=pit, **kwargs)
    if error is InvalidInput:
        assert raised.details == {"field": "comment"}


def test_line_breaks_and_tabs_are_kept_in_a_comment(pit, member):
    task = submit(member, pit, comment="Line one\n\tLine two\r\n")
    assert task.entries.get().comment == "Line one\n\tLine two"


def upload(name="evidence.pdf", content=b"%PDF-1.7 evidence", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("files", "match", "rule"),
    [
        pytest.param(lambda: [upload(content=b"")], "The file evidence.pdf is empty", "empty", id="empty"),
        pytest.param(lambda: [upload(content=b"%PDF-" + b"x" * 1025)], "larger than", "size", id="oversized"),
        pytest.param(lambda: [upload(content=b"MZ\x90\x00")], "is not a PDF file", "type", id="disguised"),
        pytest.param(lambda: [upload(name=f"f{i}.pdf") for i in range(11)], "10 files or fewer", None, id="too-many"),
        pytest.param(
            lambda: [upload(), upload(name="second.pdf", content=b"")], "second.pdf is empty", "empty", id="one-bad"
        ),
    ],
)
def test_bad_attachments_are_refused(pit, member, settings, files, match, rule):
    settings.PORTAL_MAX_UPLOAD_BYTES = 1024
    error = refused(submit, InvalidInput, match=match, member=member, application=pit, files=files())
    assert error.details["field"] == "files"
    assert error.details.get("rule") == rule
    assert not Attachment.objects.exists()


def test_good_attachments_are_stored_with_their_digest(pit, member):
    content = b"%PDF-1.7 PIT exit report"
    task = submit(member, pit, files=[upload(name="../../etc/PIT exit.pdf", content=content)])

    attachment = Attachment.objects.get(entry__task=task)
    assert attachment.original_name == "PIT exit.pdf"
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert ".." not in attachment.file.name
    with attachment.file.open("rb") as stored:
        assert stored.read() == content


def test_another_organisation_does_not_find_the_task(pit, other_member):
    refused(submit, NotFound, member=other_member, application=pit)
    assert pit.tasks.get(code="pit").state == TaskState.NOT_STARTED
