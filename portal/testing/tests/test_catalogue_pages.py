"""The test catalogue in the browser: everyone signed in browses it (filters, a case with its steps,
versions and differences, coverage, the workbook); the staff who keep it add and change it through
its forms, whose refusals show in the error summary; everyone else is refused."""

import pytest
from django.urls import reverse

from portal.accounts.roles import Role
from portal.testing.catalogue_services import CaseFields, StepInput, case_publish
from portal.testing.models import DipFlow, ImportJob, Requirement, TestCase, TestCaseVersion, TestScenario
from portal.testing.tests.catalogue_support import XLSX, read_workbook, state, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ta(staff):
    return staff(Role.TESTING_ASSURANCE)


@pytest.fixture
def login(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


CASE_FORM = {
    "title": "Supplier objects to a change of supplier",
    "batch": "functional",
    "mandatory": "no",
    "role_groups": ["supplier"],
    "dip_flows": ["IF-001"],
    "requirements": ["REQ-FUN-001"],
    "step-1-action": "Raise an objection.",
    "step-1-expected": "The objection is accepted.",
    "step-2-action": "",
    "step-2-expected": "",
    "step-3-action": "Receive the outcome.",
    "step-3-expected": "The registration is withdrawn.",
}


def test_the_catalogue_is_in_the_main_navigation(login, member):
    html = login(member).get(reverse("web:home")).content.decode()
    assert f'href="{reverse("testing:catalogue")}"' in html
    assert "Test catalogue" in html


def test_a_participant_browses_and_filters(login, member):
    client = login(member)
    response = client.get(reverse("testing:catalogue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page"' in html
    assert "56 test cases" in html
    assert reverse("testing:catalogue_case", args=["QTC-FUN-01-01"]) in html
    assert reverse("testing:catalogue_case_new") not in html  # staff only
    assert reverse("testing:catalogue_import") not in html
    html = client.get(reverse("testing:catalogue"), {"role_group": "mem", "batch": "migration"}).content.decode()
    assert "2 test cases" in html and "QTC-MIG-01-03" in html and "QTC-FUN-01-01" not in html
    html = client.get(reverse("testing:catalogue"), {"mandatory": "no", "dip_flow": "IF-015"}).content.decode()
    assert "QTC-FUN-05-04" in html and "QTC-FUN-05-05" in html and "2 test cases" in html
    html = client.get(reverse("testing:catalogue"), {"q": "nothing like this"}).content.decode()
    assert "No test cases match these filters" in html
    html = client.get(reverse("testing:catalogue"), {"scenario": "QTS-OPS-02"}).content.decode()
    assert "Showing the cases of scenario <strong>QTS-OPS-02</strong>" in html and "2 test cases" in html


def test_a_case_with_its_steps_and_what_changed(login, member, ta):
    case_publish(
        actor=ta,
        identifier="QTC-FUN-02-05",
        fields=CaseFields(
            title="Metering Service rejects a proposed appointment",
            batch="functional",
            mandatory=True,
            role_groups=["mem"],
            dip_flows=["IF-035"],
            requirements=["REQ-FUN-004"],
            steps=[
                StepInput(
                    "Receive IF-033 with a contract reference you do not hold.",
                    "The proposal fails the contract check.",
                ),
                StepInput("Send IF-035 rejecting the appointment.", "IF-035 carries reason code R04."),
            ],
        ),
    )
    client = login(member)
    html = client.get(reverse("testing:catalogue_case", args=["qtc-fun-02-05"])).content.decode()
    assert "Send IF-035 rejecting the appointment." in html
    assert "Testing Assurance" in html  # who published version 2
    assert "From version 1 to version 2" in html  # what the current version changed
    assert "<ins>IF-035 carries reason code R04.</ins>" in html
    assert reverse("testing:catalogue_case_edit", args=["QTC-FUN-02-05"]) not in html
    response = client.get(reverse("testing:catalogue_case", args=["QTC-FUN-02-05"]), {"from": "2", "to": "9"})
    assert response.status_code == 400
    assert "Choose two versions of this case to compare" in response.content.decode()
    assert client.get(reverse("testing:catalogue_case", args=["QTC-NOPE"])).status_code == 404


def test_the_other_catalogue_pages(login, member):
    client = login(member)
    html = client.get(reverse("testing:catalogue_scenarios")).content.decode()
    assert "QTS-MIG-02" in html and "Reverse migration" in html
    html = client.get(reverse("testing:catalogue_requirements"), {"area": "operational"}).content.decode()
    assert "REQ-OPS-003" in html and "REQ-FUN-001" not in html and "No QT case" in html
    html = client.get(reverse("testing:catalogue_flows")).content.decode()
    assert "IF-041" in html and "Not allowed" in html
    html = client.get(reverse("testing:catalogue_coverage")).content.decode()
    assert "REQ-NFR-008" in html and "REQ-FUN-001</th>" not in html
    html = client.get(reverse("testing:catalogue_coverage"), {"show": "all"}).content.decode()
    assert "REQ-FUN-001</th>" in html


def test_the_workbook_downloads(login, member):
    response = login(member).get(reverse("testing:catalogue_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="QT test catalogue.xlsx"'
    assert "Cases" in read_workbook(response.content)


# --- the staff's forms ---------------------------------------------------------------------------


def test_adding_a_case(login, ta):
    client = login(ta)
    assert client.get(reverse("testing:catalogue_case_new")).status_code == 200
    response = client.post(
        reverse("testing:catalogue_case_new"), {**CASE_FORM, "identifier": "QTC-FUN-01-07", "scenario": "QTS-FUN-01"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("testing:catalogue_case", args=["QTC-FUN-01-07"])
    version = TestCaseVersion.objects.get(case__identifier="QTC-FUN-01-07")
    assert [s["action"] for s in version.steps] == ["Raise an objection.", "Receive the outcome."]  # blank row dropped
    assert not version.mandatory
    assert "You added test case QTC-FUN-01-07" in client.get(response["Location"]).content.decode()


def test_a_refused_case_shows_each_problem_and_keeps_what_was_entered(login, ta):
    before = state()
    response = login(ta).post(
        reverse("testing:catalogue_case_new"),
        {
            **CASE_FORM,
            "identifier": "QTC-FUN-01-07",
            "scenario": "QTS-FUN-01",
            "title": "",
            "role_groups": [],
            "step-1-expected": "",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#title">Enter the title' in html
    assert 'href="#role_groups">Select at least one role group' in html
    assert 'href="#step-1-expected">Enter the step 1 expected result' in html
    assert "Raise an objection." in html  # kept
    assert state() == before


def test_publishing_a_new_version(login, ta):
    client = login(ta)
    url = reverse("testing:catalogue_case_edit", args=["QTC-FUN-01-06"])
    html = client.get(url).content.decode()
    assert "Supplier disputes a change of supplier reading" in html and "Publish version 2" in html
    current = TestCaseVersion.objects.get(case__identifier="QTC-FUN-01-06")
    same = {
        "title": current.title,
        "batch": current.batch,
        "mandatory": "no",
        "role_groups": ["supplier"],
        "dip_flows": ["IF-041"],
        "requirements": ["REQ-FUN-010"],
    }
    for n, step in enumerate(current.steps, start=1):
        same[f"step-{n}-action"], same[f"step-{n}-expected"] = step["action"], step["expected"]
    response = client.post(url, same)
    assert response.status_code == 422
    assert "Nothing changed: this is what version 1 of QTC-FUN-01-06 already says" in response.content.decode()
    response = client.post(url, {**same, "mandatory": "yes"})
    assert response.status_code == 302
    assert TestCaseVersion.objects.get(case__identifier="QTC-FUN-01-06", is_current=True).version == 2


def test_retiring_and_reinstating(login, ta):
    client = login(ta)
    response = client.post(reverse("testing:catalogue_case_retire", args=["QTC-FUN-01-06"]), {"reason": ""})
    assert response.status_code == 422
    assert 'href="#reason">Enter the reason' in response.content.decode()
    response = client.post(
        reverse("testing:catalogue_case_retire", args=["QTC-FUN-01-06"]), {"reason": "Descoped at QAG."}
    )
    assert response.status_code == 302 and not TestCase.objects.get(identifier="QTC-FUN-01-06").is_active
    html = client.get(response["Location"]).content.decode()
    assert "Retired" in html and reverse("testing:catalogue_case_reinstate", args=["QTC-FUN-01-06"]) in html
    response = client.post(reverse("testing:catalogue_case_retire", args=["QTC-FUN-01-06"]), {"reason": "Again."})
    assert response.status_code == 409 and "already retired" in response.content.decode()
    response = client.post(reverse("testing:catalogue_case_reinstate", args=["QTC-FUN-01-06"]))
    assert response.status_code == 302 and TestCase.objects.get(identifier="QTC-FUN-01-06").is_active


def test_scenarios_requirements_and_flows(login, ta):
    client = login(ta)
    response = client.post(
        reverse("testing:catalogue_scenario_new"),
        {"identifier": "QTS-FUN-07", "title": "Replays", "batch": "functional"},
    )
    assert response.status_code == 302 and TestScenario.objects.filter(identifier="QTS-FUN-07").exists()
    response = client.post(
        reverse("testing:catalogue_scenario_edit", args=["QTS-FUN-01"]),
        {"title": "Change of supplier", "batch": "functional", "description": "x"},  # unticked: retire
    )
    assert response.status_code == 409 and "still has 6 active cases" in response.content.decode()

    response = client.post(
        reverse("testing:catalogue_requirement_new"), {"identifier": "REQ-OPS-008", "area": "operational", "text": ""}
    )
    assert response.status_code == 422 and 'href="#text">Enter the requirement text' in response.content.decode()
    response = client.post(
        reverse("testing:catalogue_requirement_new"),
        {"identifier": "REQ-OPS-008", "area": "operational", "text": "Records are kept for 7 years."},
    )
    assert response.status_code == 302 and Requirement.objects.filter(identifier="REQ-OPS-008").exists()
    response = client.post(
        reverse("testing:catalogue_requirement_edit", args=["REQ-OPS-008"]),
        {"area": "operational", "text": "Records are kept for 7 years."},  # unticked: retire
    )
    assert response.status_code == 302 and not Requirement.objects.get(identifier="REQ-OPS-008").is_active

    response = client.post(
        reverse("testing:catalogue_flow_new"), {"code": "IF-042", "title": "Reading replay", "opt_out_allowed": "yes"}
    )
    assert response.status_code == 302 and DipFlow.objects.get(code="IF-042").opt_out_allowed
    response = client.post(reverse("testing:catalogue_flow_edit", args=["IF-042"]), {"title": "Reading replay"})
    assert response.status_code == 302 and not DipFlow.objects.get(code="IF-042").opt_out_allowed
    assert client.get(reverse("testing:catalogue_flow_edit", args=["IF-999"])).status_code == 404


def test_importing_a_workbook_from_the_page(login, ta, member):
    client = login(ta)
    assert "Import a catalogue workbook" in client.get(reverse("testing:catalogue_import")).content.decode()
    content = xlsx_bytes(
        {
            "Cases": [["Identifier", "Scenario", "Title", "Batch", "Mandatory", "Role groups"]],
            "Steps": [["Case", "Step", "Action", "Expected result"]],
        }
    )
    response = client.post(reverse("testing:catalogue_import"), {"file": upload(content)})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("testing:import_job", args=[job.pk])
    assert job.kind == "catalogue"
    response = client.post(reverse("testing:catalogue_import"), {"file": upload(b"not a workbook", "c.xlsx")})
    assert (
        response.status_code == 422
        and 'href="#file">The content of c.xlsx is not a XLSX file' in response.content.decode()
    )


def test_everyone_else_is_refused_the_forms(login, member, staff):
    before = state()
    for user in (member, staff(Role.DIP_MANAGER)):
        client = login(user)
        for name, args in [
            ("testing:catalogue_case_new", []),
            ("testing:catalogue_case_edit", ["QTC-FUN-01-01"]),
            ("testing:catalogue_import", []),
            ("testing:catalogue_scenario_new", []),
            ("testing:catalogue_requirement_edit", ["REQ-FUN-001"]),
            ("testing:catalogue_flow_new", []),
        ]:
            assert client.get(reverse(name, args=args)).status_code == 403
            assert client.post(reverse(name, args=args), {"title": "x"}).status_code == 403
        assert (
            client.post(reverse("testing:catalogue_case_retire", args=["QTC-FUN-01-01"]), {"reason": "x"}).status_code
            == 403
        )
    assert state() == before


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("testing:catalogue"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
