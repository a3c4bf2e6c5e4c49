import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error, counts
from portal.core.errors import InvalidTransition
from portal.qualification import hooks
from portal.qualification.models import Attachment, Task
from portal.qualification.workflow import Action

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generic_workflow")]


def _task_url(application, code):
    return f"/api/v1/applications/{application.pk}/tasks/{code}"


# --- read --------------------------------------------------------------------------------------


def test_get_task_with_its_thread(api_as, member, make_application, advance):
    application = advance(make_application(), stop_at_state=("pqs", "submitted"))
    body = api_as(member).get(_task_url(application, "pqs")).json()
    assert body["code"] == "pqs"
    assert body["title"].startswith("Pre-Qualification Submission")
    assert body["state"] == "submitted"
    assert body["state_label"] == "Submitted"
    assert body["application"]["id"] == application.pk
    assert body["application"]["mpid"] == "NLEN"
    assert body["depends_on"] == []
    [entry] = body["entries"]
    assert entry["action"] == "submit"
    assert (entry["from_state"], entry["to_state"]) == ("not_started", "submitted")
    assert entry["attachments"] == []


def test_get_task_of_another_organisation_answers_404(api_as, other_member, make_application):
    application = make_application()
    assert_error(api_as(other_member).get(_task_url(application, "pqs")), 404, "not_found")


def test_get_unknown_task_answers_404(api_as, member, make_application):
    application = make_application()
    assert_error(api_as(member).get(_task_url(application, "no_such_task")), 404, "not_found")
    assert_error(api_as(member).get(_task_url(application, "x" * 41)), 422, "invalid_input")


# --- transitions -------------------------------------------------------------------------------


def test_transition_by_the_actor(api_as, member, make_application):
    application = make_application()
    response = api_as(member).post(_task_url(application, "pqs") + "/transitions", {"action": "submit"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "submitted"
    assert body["waiting_on"] == "assurer"
    assert set(body["waiting_on_roles"]) == {"elexon_analyst", "qsp", "rec_code_manager"}
    assert body["available_actions"] == []
    assert [e["action"] for e in body["entries"]] == ["submit"]


def test_transition_by_the_assurer_unlocks_the_next_tasks(api_as, staff, make_application, advance):
    application = advance(make_application(), stop_at_state=("pqs", "submitted"))
    response = api_as(staff(Role.ELEXON_ANALYST)).post(
        _task_url(application, "pqs") + "/transitions", {"action": "accept", "comment": "Reliance agreed."}
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "completed"
    assert Task.objects.get(application=application, code="pit").state == "not_started"


def test_transition_by_the_wrong_role_answers_403(api_as, member, staff, make_application, advance):
    application = advance(make_application(), stop_at_state=("pqs", "submitted"))
    before = counts()
    # The participant may not accept its own submission; the DIP Manager does not assure the PQS.
    for user in (member, staff(Role.DIP_MANAGER)):
        response = api_as(user).post(_task_url(application, "pqs") + "/transitions", {"action": "accept"})
        assert_error(response, 403, "permission_denied")
    assert counts() == before


def test_transition_on_another_organisations_task_answers_404(api_as, other_member, make_application):
    application = make_application()
    before = counts()
    response = api_as(other_member).post(_task_url(application, "pqs") + "/transitions", {"action": "submit"})
    assert_error(response, 404, "not_found")
    assert counts() == before


def test_transition_in_the_wrong_state_answers_409(api_as, staff, member, make_application):
    application = make_application()
    before = counts()
    # Nothing has been submitted yet, so there is nothing to accept.
    response = api_as(staff(Role.ELEXON_ANALYST)).post(
        _task_url(application, "pqs") + "/transitions", {"action": "accept"}
    )
    body = assert_error(response, 409, "invalid_transition")
    assert body["details"] == {"state": "not_started"}
    # PIT waits for the PQS.
    response = api_as(member).post(_task_url(application, "pit") + "/transitions", {"action": "submit"})
    assert_error(response, 409, "invalid_transition")
    # Signing is not an action of a submission task.
    response = api_as(member).post(_task_url(application, "pqs") + "/transitions", {"action": "sign"})
    assert_error(response, 409, "invalid_transition")
    assert counts() == before


@pytest.mark.parametrize(
    "payload", [{"action": "dance"}, {}, {"action": "submit", "comment": "x" * 5001}, {"action": ["submit"]}]
)
def test_transition_with_malformed_input_answers_422(api_as, member, make_application, payload):
    application = make_application()
    before = counts()
    response = api_as(member).post(_task_url(application, "pqs") + "/transitions", payload)
    assert_error(response, 422, "invalid_input")
    assert counts() == before


def test_transition_needing_a_comment_answers_422_without_one(api_as, staff, make_application, advance):
    application = advance(make_application(), stop_at_state=("pqs", "submitted"))
    before = counts()
    response = api_as(staff(Role.ELEXON_ANALYST)).post(
        _task_url(application, "pqs") + "/transitions", {"action": "request_changes", "comment": "  "}
    )
    body = assert_error(response, 422, "invalid_input")
    assert body["details"] == {"field": "comment"}
    assert counts() == before


def test_transition_after_withdrawal_answers_409(api_as, member, make_application):
    application = make_application()
    client = api_as(member)
    client.post(f"/api/v1/applications/{application.pk}/withdraw", {"reason": "Stopping."})
    before = counts()
    response = client.post(_task_url(application, "pqs") + "/transitions", {"action": "submit"})
    assert_error(response, 409, "invalid_transition")
    assert counts() == before


def test_a_tasks_own_content_rules_refuse_through_the_api(api_as, member, make_application):
    """Apps holding a task's content hook rules into its transitions; their refusals reach the client
    as ordinary errors, and nothing changes."""

    def pqs_complete(context):
        raise InvalidTransition("The PQS has no target migration date.", details={"missing": ["target_migration_date"]})

    hooks.register_guard("pqs", Action.SUBMIT, pqs_complete)
    application = make_application()
    before = counts()
    response = api_as(member).post(_task_url(application, "pqs") + "/transitions", {"action": "submit"})
    body = assert_error(response, 409, "invalid_transition")
    assert body == {
        "code": "invalid_transition",
        "message": "The PQS has no target migration date.",
        "details": {"missing": ["target_migration_date"]},
    }
    assert counts() == before


# --- transitions with evidence -----------------------------------------------------------------


def test_upload_submits_with_evidence(api_as, member, make_application):
    application = make_application()
    content = b"PQS placing-reliance proposal, version 1.\n"
    response = api_as(member).post_multipart(
        _task_url(application, "pqs") + "/transitions/upload",
        {
            "action": "submit",
            "comment": "Our proposal.",
            "files": [
                SimpleUploadedFile("proposal.txt", content, content_type="text/plain"),
                SimpleUploadedFile("../../etc/plan.csv", b"wave,start\n2,2026-01-05\n", content_type="text/csv"),
            ],
        },
    )
    assert response.status_code == 200, response.content
    entry = response.json()["entries"][-1]
    assert entry["comment"] == "Our proposal."
    first, second = entry["attachments"]
    assert first["name"] == "proposal.txt"
    assert first["size"] == len(content)
    assert first["content_type"] == "text/plain"
    assert first["sha256"] == hashlib.sha256(content).hexdigest()
    assert second["name"] == "plan.csv"
    assert Attachment.objects.count() == 2


def test_upload_without_files_is_a_plain_transition(api_as, member, make_application):
    application = make_application()
    response = api_as(member).post_multipart(_task_url(application, "pqs") + "/transitions/upload", {"action": "start"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "in_progress"


def test_upload_refuses_an_empty_file(api_as, member, make_application):
    application = make_application()
    before = counts()
    response = api_as(member).post_multipart(
        _task_url(application, "pqs") + "/transitions/upload",
        {"action": "submit", "files": [SimpleUploadedFile("empty.txt", b"")]},
    )
    body = assert_error(response, 422, "invalid_input")
    assert body["details"] == {"field": "files", "rule": "empty"}
    assert counts() == before


def test_upload_refuses_a_missing_action(api_as, member, make_application):
    application = make_application()
    before = counts()
    response = api_as(member).post_multipart(
        _task_url(application, "pqs") + "/transitions/upload", {"files": [SimpleUploadedFile("a.txt", b"x")]}
    )
    assert_error(response, 422, "invalid_input")
    assert counts() == before


def test_upload_on_another_organisations_task_answers_404(api_as, other_member, make_application):
    application = make_application()
    before = counts()
    response = api_as(other_member).post_multipart(
        _task_url(application, "pqs") + "/transitions/upload",
        {"action": "submit", "files": [SimpleUploadedFile("a.txt", b"x")]},
    )
    assert_error(response, 404, "not_found")
    assert counts() == before


# --- work queue --------------------------------------------------------------------------------


def test_work_queue_lists_what_waits_for_the_caller(api_as, member, staff, make_application, advance):
    application = advance(make_application(), stop_at_state=("pqs", "submitted"))
    analyst_queue = api_as(staff(Role.ELEXON_ANALYST)).get("/api/v1/work-queue").json()
    assert analyst_queue["count"] == 1
    [item] = analyst_queue["items"]
    assert item["code"] == "pqs"
    assert item["application"]["id"] == application.pk
    assert item["application"]["organisation"]["name"] == "Northern Lights Energy Ltd"
    assert {a["action"] for a in item["available_actions"]} == {"accept", "request_changes"}
    # The participant has nothing to do until the PQS is reviewed; the Programme has nothing yet.
    assert api_as(member).get("/api/v1/work-queue").json()["count"] == 0
    assert api_as(staff(Role.PROGRAMME_ASSURANCE)).get("/api/v1/work-queue").json()["count"] == 0


def test_work_queue_excludes_other_organisations(api_as, other_member, make_application):
    make_application()
    assert api_as(other_member).get("/api/v1/work-queue").json() == {
        "count": 0,
        "limit": 50,
        "offset": 0,
        "items": [],
    }


def test_work_queue_refuses_bad_paging(api_as, member):
    assert_error(api_as(member).get("/api/v1/work-queue", {"limit": "many"}), 422, "invalid_input")
