"""The API of the Board's agenda, recommendations, papers, packs and letters: what each operation
answers, the refusals in `{code, message, details}`, the PDF downloads; and generated calls (schemathesis)
that must answer as documented and never reveal or change another organisation's application."""

import pytest
from schemathesis.generation import GenerationMode

from portal.accounts.roles import Role
from portal.api.tests import conftest as api_fixtures
from portal.api.tests.conftest import assert_error
from portal.api.tests.fuzzing import CHECKS, RESPONSE_CHECKS, assert_refused_as_missing, bearer, operations, run
from portal.approvals.letters import qualification_letter_generate
from portal.approvals.models import QualificationLetter
from portal.approvals.paper_services import pab_pack_generate, pab_paper_generate
from portal.approvals.tests import test_papers_support as support
from portal.approvals.tests.test_papers_support import (
    RECOMMENDATION,
    decide,
    pdf_text,
    ready_paper,
    snapshot,
    workoff_item,
)
from portal.qualification.workflow import Decision

pytestmark = pytest.mark.django_db

agenda_item, board = support.agenda_item, support.board
api_as = api_fixtures.api_as
OPENAPI = "/pab-papers-api/openapi.json"


def api_path(item) -> str:
    return f"/api/v1/pab/meetings/{item.meeting.pk}/papers/{item.application.pk}"


def pdf_body(response) -> bytes:
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["X-Content-Type-Options"] == "nosniff"
    return b"".join(response.streaming_content)


def test_an_analyst_recommends_prepares_and_reads_the_paper(agenda_item, board, api_as):
    item = agenda_item()
    analyst = api_as(board.analyst)

    response = analyst.post(f"{api_path(item)}/recommendation", {"outcome": "approved", "text": RECOMMENDATION})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["outcome"] == "approved"
        and body["is_current"]
        and body["recommended_by"] == "Elexon qualification analyst"
    )

    response = analyst.post(f"{api_path(item)}/prepare")
    assert response.status_code == 202, response.content
    paper = response.json()
    assert paper["version"] == 1 and paper["status"] == "queued" and paper["pdf_url"] is None
    again = analyst.post(f"{api_path(item)}/prepare")
    assert_error(again, 409, "conflict")

    pab_paper_generate(paper_id=paper["id"])
    detail = api_as(board.member).get(api_path(item)).json()
    assert detail["application"]["id"] == item.application.pk and detail["application"]["mpid"] == "NLEN"
    assert detail["recommendation"]["text"] == RECOMMENDATION and not detail["can_present"]
    ready = detail["papers"][0]
    assert ready["status"] == "ready" and len(ready["sha256"]) == 64 and ready["size"] > 0
    assert ready["pdf_url"] == f"{api_path(item)}/versions/1/pdf"
    assert RECOMMENDATION in detail["content_html"]
    content = pdf_body(api_as(board.member).get(ready["pdf_url"]))
    assert "Northern Lights Energy Ltd" in pdf_text(content) and len(content) == ready["size"]


def test_refusals_answer_in_the_error_shape_and_change_nothing(agenda_item, board, api_as, member, staff):
    item = agenda_item()
    before = snapshot()
    analyst = api_as(board.analyst)
    bad = analyst.post(f"{api_path(item)}/recommendation", {"outcome": "maybe", "text": "x"})
    assert assert_error(bad, 422, "invalid_input")["details"]["errors"][0]["field"] == "outcome"
    assert_error(
        analyst.post(f"{api_path(item)}/recommendation", {"outcome": "approved", "text": ""}), 422, "invalid_input"
    )
    assert_error(
        analyst.post(f"{api_path(item)}/recommendation", {"outcome": "approved", "text": "Approve\x07 it"}),
        422,
        "invalid_input",
    )
    assert_error(analyst.post(f"{api_path(item)}/prepare"), 409, "invalid_transition")
    chair = api_as(board.chair)
    assert_error(
        chair.post(f"{api_path(item)}/recommendation", {"outcome": "approved", "text": "Yes."}),
        403,
        "permission_denied",
    )
    assert_error(chair.post(f"/api/v1/pab/meetings/{item.meeting.pk}/packs"), 403, "permission_denied")
    for outsider in (member, staff(Role.TESTING_ASSURANCE)):
        client = api_as(outsider)
        assert_error(client.get(api_path(item)), 404, "not_found")
        assert_error(
            client.post(f"{api_path(item)}/recommendation", {"outcome": "approved", "text": "Y"}), 404, "not_found"
        )
        assert_error(client.post(f"{api_path(item)}/prepare"), 404, "not_found")
        assert_error(client.get(f"/api/v1/pab/meetings/{item.meeting.pk}/packs"), 404, "not_found")
    assert_error(api_as(board.member).get(f"{api_path(item)}/versions/1/pdf"), 404, "not_found")
    assert snapshot() == before


def test_the_agenda_shows_the_board_its_papers_and_the_participant_its_rows(
    agenda_item, board, api_as, member, other_org, other_member
):
    first = agenda_item()
    rival = agenda_item(organisation=other_org, actor=other_member, meeting=first.meeting)
    ready_paper(first, board.analyst)
    decide(rival, board.secretary, outcome=Decision.DEFERRED, letter=False)
    path = f"/api/v1/pab/meetings/{first.meeting.pk}/agenda"

    agenda = api_as(board.member).get(path).json()
    assert agenda["reads_papers"] and [row["number"] for row in agenda["rows"]] == [1, 2]
    rows = {row["application"]["id"]: row for row in agenda["rows"]}
    assert rows[first.application.pk]["paper"]["status"] == "ready"
    assert rows[first.application.pk]["ready_paper_version"] == 1
    assert rows[first.application.pk]["recommendation"]["outcome"] == "approved_with_conditions"
    assert rows[rival.application.pk]["decision"]["outcome"] == "deferred"

    own = api_as(member).get(path).json()
    assert not own["reads_papers"] and own["pack"] is None
    assert [row["application"]["id"] for row in own["rows"]] == [first.application.pk]
    assert own["rows"][0]["paper"] is None and own["rows"][0]["recommendation"] is None
    assert_error(api_as(member).get("/api/v1/pab/meetings/999999/agenda"), 404, "not_found")


def test_the_secretary_asks_for_the_pack_and_the_board_downloads_it(agenda_item, board, api_as, member):
    item = agenda_item()
    ready_paper(item, board.analyst)
    secretary = api_as(board.secretary)
    packs = f"/api/v1/pab/meetings/{item.meeting.pk}/packs"

    response = secretary.post(packs)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued" and response.json()["version"] == 1
    assert_error(secretary.post(packs), 409, "conflict")
    pab_pack_generate(pack_id=response.json()["id"])

    listed = api_as(board.chair).get(packs).json()
    assert len(listed) == 1 and listed[0]["status"] == "ready" and listed[0]["page_count"] >= 3
    content = pdf_body(api_as(board.chair).get(listed[0]["pdf_url"]))
    assert len(content) == listed[0]["size"]
    assert api_as(board.member).get(f"/api/v1/pab/meetings/{item.meeting.pk}/agenda").json()["pack"]["version"] == 1
    assert_error(api_as(member).get(listed[0]["pdf_url"]), 404, "not_found")


def test_the_chair_lists_and_issues_letters_and_the_participant_downloads_its_own(
    agenda_item, board, api_as, member, other_member
):
    item = agenda_item()
    condition = workoff_item(item.application, by=board.analyst)
    letter = QualificationLetter.objects.get(decision=decide(item, board.secretary, conditions=[condition]))
    chair = api_as(board.chair)

    listed = chair.get("/api/v1/pab/letters", {"status": "draft"}).json()
    assert listed["count"] == 1 and listed["items"][0]["generation"] == "queued"
    assert listed["items"][0]["conditions"][0]["reference"] == "WO-001"
    assert_error(chair.post(f"/api/v1/pab/letters/{letter.pk}/issue"), 409, "invalid_transition")
    qualification_letter_generate(letter_id=letter.pk)

    issued = chair.post(f"/api/v1/pab/letters/{letter.pk}/issue")
    assert issued.status_code == 200, issued.content
    body = issued.json()
    assert (
        body["status"] == "issued" and body["issued_by"] == "PAB chair" and body["reference"].endswith(f"/L{letter.pk}")
    )
    assert_error(chair.post(f"/api/v1/pab/letters/{letter.pk}/issue"), 409, "invalid_transition")
    assert_error(api_as(board.secretary).post(f"/api/v1/pab/letters/{letter.pk}/regenerate"), 409, "invalid_transition")

    mine = api_as(member).get("/api/v1/pab/letters").json()
    assert [row["id"] for row in mine["items"]] == [letter.pk]
    content = pdf_body(api_as(member).get(mine["items"][0]["pdf_url"]))
    assert "NLEN" in pdf_text(content)
    assert_error(api_as(member).post(f"/api/v1/pab/letters/{letter.pk}/issue"), 403, "permission_denied")
    assert api_as(other_member).get("/api/v1/pab/letters").json()["count"] == 0
    assert_error(api_as(other_member).get(f"/api/v1/pab/letters/{letter.pk}"), 404, "not_found")


def test_the_secretary_regenerates_a_letter(agenda_item, board, api_as):
    item = agenda_item()
    letter = QualificationLetter.objects.get(decision=decide(item, board.secretary, outcome=Decision.APPROVED))
    qualification_letter_generate(letter_id=letter.pk)
    response = api_as(board.secretary).post(f"/api/v1/pab/letters/{letter.pk}/regenerate")
    assert response.status_code == 202 and response.json()["generation"] == "queued"
    assert_error(api_as(board.member).post(f"/api/v1/pab/letters/{letter.pk}/regenerate"), 403, "permission_denied")


# --- generated calls --------------------------------------------------------------------------------------------


@pytest.fixture
def on_agenda(agenda_item, board):
    item = agenda_item()
    ready_paper(item, board.analyst)
    decision = decide(item, board.secretary, outcome=Decision.APPROVED)
    qualification_letter_generate(letter_id=QualificationLetter.objects.get(decision=decision).pk)
    return item


@pytest.mark.urls("portal.approvals.tests.test_papers_urls")
@pytest.mark.usefixtures("direct_wsgi_calls")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(board, on_agenda, mode):
    headers = bearer(board.member)
    found = operations(OPENAPI)
    assert len(found) == 13
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=8, mode=mode)


@pytest.mark.urls("portal.approvals.tests.test_papers_urls")
@pytest.mark.usefixtures("direct_wsgi_calls")
@pytest.mark.parametrize("role", ["analyst", "secretary", "chair"])
def test_generated_requests_by_the_staff_who_act_answer_as_documented(board, on_agenda, role):
    """Aimed at the real meeting, application and letter, generated input reaches the services."""
    headers = bearer(getattr(board, role))
    letter = QualificationLetter.objects.get()

    def call(case):
        parameters = case.path_parameters or {}
        if "application_id" in parameters:
            parameters["application_id"] = on_agenda.application.pk
        if "meeting_id" in parameters:
            parameters["meeting_id"] = on_agenda.meeting.pk
        if "letter_id" in parameters:
            parameters["letter_id"] = letter.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=8)


@pytest.mark.urls("portal.approvals.tests.test_papers_urls")
@pytest.mark.usefixtures("direct_wsgi_calls")
def test_another_organisations_application_is_never_revealed_or_changed(on_agenda, other_member, member):
    letter = QualificationLetter.objects.get()
    before = snapshot()
    for person in (other_member, member):  # a participant never reads the Board's papers, even its own
        call = refused_for(person, on_agenda, letter, sees_own_rows=person == member)
        for operation in operations(OPENAPI):
            if any(name in operation.path for name in ("application_id", "meeting_id", "letter_id", "/letters")):
                run(operation, call, max_examples=6)
    assert snapshot() == before


def refused_for(person, item, letter, *, sees_own_rows: bool):
    """A call that aims generated requests at the real objects and checks that `person` learns nothing."""
    headers = bearer(person)

    def call(case):
        parameters = case.path_parameters or {}
        if "application_id" in parameters:
            parameters["application_id"] = item.application.pk
        if "meeting_id" in parameters:
            parameters["meeting_id"] = item.meeting.pk
        if "letter_id" in parameters:
            parameters["letter_id"] = letter.pk
        response = case.call(headers=headers)
        if case.method.upper() == "GET" and case.path.endswith("/agenda") and response.status_code == 200:
            rows = response.json()["rows"]
            assert all(row["paper"] is None and row["recommendation"] is None for row in rows)
            assert bool(rows) == sees_own_rows
            return
        if case.method.upper() == "POST" and case.path.endswith(("/issue", "/regenerate")):
            # Gated by role before the letter is looked up: a participant is refused 403 whichever letter
            # is named (their own, another organisation's or none), so the answer tells nothing about it.
            assert response.status_code == 403, (case.path, response.status_code)
            assert response.json()["code"] == "permission_denied"
            return
        if case.method.upper() == "GET" and case.path.endswith("/v1/pab/letters") and response.status_code == 200:
            assert response.json()["count"] == 0  # the letter is still waiting for the Chair
            return
        assert_refused_as_missing(response, case)

    return call
