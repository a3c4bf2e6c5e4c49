"""The versioned QAD template: the shipped default, loading and replacing it, and refusing bad files
with every problem named."""

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied
from portal.documents.models import QadQuestion, QadSection, QadTemplate
from portal.documents.services import qad_answer_save, qad_template_activate, qad_template_load
from portal.documents.template_data import DEFAULT_TEMPLATE_PATH, template_parse
from portal.documents.workflow import TemplateStatus

pytestmark = pytest.mark.django_db

ROLE_GROUPS = {"supplier", "ldso", "mem", "data_service"}


def default_data() -> dict:
    return json.loads(DEFAULT_TEMPLATE_PATH.read_text())


def as_bytes(data: dict) -> bytes:
    return json.dumps(data).encode()


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_superuser(email="admin@portal.test", username="admin@portal.test", password="x" * 16)


def test_the_default_template_is_loaded_and_active():
    template = QadTemplate.objects.get(status=TemplateStatus.ACTIVE)
    assert 8 <= template.sections.count() <= 12
    assert template.questions.count() >= 40
    section = template.sections.get(number="4.5")
    assert {tuple(q.assessed_by) for q in section.questions.all()} == {("dip_manager",)}
    smart = template.questions.get(number="5.1.1")
    assert [g.code for g in smart.role_groups.all()] == ["supplier"]
    assert {s.theme for s in template.sections.all()} == {"pit", "sit_qt", "placing_reliance", "procedural_governance"}
    assert {s.requirement_area for s in template.sections.all()} == {
        "functional",
        "migration",
        "non_functional",
        "operational",
    }
    # Every role group answers a sensible share of the questions.
    for code in ROLE_GROUPS:
        assert template.questions.filter(role_groups__code=code).count() >= 40


def test_a_good_file_parses():
    parsed = template_parse(DEFAULT_TEMPLATE_PATH.read_bytes(), role_group_codes=ROLE_GROUPS)
    assert parsed.version == "1.0"
    assert parsed.question_count == QadQuestion.objects.filter(template__version="1.0").count()


def test_a_bad_file_lists_every_problem_with_where_it_is():
    data = default_data()
    data["sections"][0]["theme"] = "vibes"
    data["sections"][1]["questions"][0]["text"] = ""
    data["sections"][2]["questions"][1]["number"] = data["sections"][2]["questions"][0]["number"]
    data["sections"][3]["role_groups"] = ["supplier", "mop"]
    data["sections"][4]["questions"][0]["number"] = "9.9.9"
    data["sections"][5]["questions"][0]["evidence_expected"] = "yes"
    data["sections"][6]["questions"][0]["colour"] = "blue"
    with pytest.raises(InvalidInput) as refused:
        template_parse(as_bytes(data), role_group_codes=ROLE_GROUPS)
    problems = refused.value.details["errors"]
    assert len(problems) == 7, problems
    text = "\n".join(problems)
    assert "section 1: “theme” must be one of pit, sit_qt, placing_reliance, procedural_governance." in text
    assert "section 2, question 2.1: “text” is empty." in text
    assert "section 3.1, question 3.1.1: the question number is used twice." in text
    assert "section 3.2: “role_groups” names unknown role group 'mop'" in text
    assert "section 4.1, question 9.9.9: the number must start with its section's number (4.1.)." in text
    assert "“evidence_expected” must be true or false." in text
    assert "unknown field 'colour'" in text
    assert refused.value.message.startswith("The QAD template file has 7 problems: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"{not json", "The file is not valid JSON"),
        (b"\xff\xfe\x00", "The file is not UTF-8 text."),
        (b"[1, 2]", "The file must hold one JSON object"),
        (b'{"version": "2.0", "title": "T", "sections": []}', "“sections” must be a non-empty list."),
    ],
)
def test_files_that_are_not_templates_are_refused_clearly(content, message):
    with pytest.raises(InvalidInput) as refused:
        template_parse(content, role_group_codes=ROLE_GROUPS)
    assert message in refused.value.message


def test_loading_replaces_the_active_template_and_is_audited(admin_user):
    data = default_data()
    data["version"] = "2.0"
    old = QadTemplate.objects.get(status=TemplateStatus.ACTIVE)
    template = qad_template_load(actor=admin_user, content=as_bytes(data))
    old.refresh_from_db()
    assert template.status == TemplateStatus.ACTIVE
    assert old.status == TemplateStatus.RETIRED
    event = AuditEvent.objects.get(action="qad_template.load")
    assert event.after["replaced"] == "1.0"
    assert event.after["questions"] == template.questions.count()
    # Activating the old one again swaps them back.
    qad_template_activate(actor=admin_user, template_id=old.pk)
    template.refresh_from_db()
    assert template.status == TemplateStatus.RETIRED
    assert QadTemplate.objects.get(status=TemplateStatus.ACTIVE) == old


def test_a_bad_file_or_a_repeated_version_stores_nothing(admin_user):
    counts = (QadTemplate.objects.count(), QadSection.objects.count(), AuditEvent.objects.count())
    bad = default_data()
    bad["version"] = "2.0"
    bad["sections"][0]["questions"] = []
    with pytest.raises(InvalidInput):
        qad_template_load(actor=admin_user, content=as_bytes(bad))
    with pytest.raises(InvalidInput, match="already loaded"):
        qad_template_load(actor=admin_user, content=DEFAULT_TEMPLATE_PATH.read_bytes())
    assert (QadTemplate.objects.count(), QadSection.objects.count(), AuditEvent.objects.count()) == counts


def test_only_an_administrator_loads_a_template(member):
    data = default_data()
    data["version"] = "2.0"
    with pytest.raises(PermissionDenied):
        qad_template_load(actor=member, content=as_bytes(data))
    assert not QadTemplate.objects.filter(version="2.0").exists()


def test_the_database_allows_one_active_template_only():
    with pytest.raises(IntegrityError), transaction.atomic():
        QadTemplate.objects.create(version="9", title="Another", status=TemplateStatus.ACTIVE, source_sha256="0" * 64)


def test_the_command_loads_a_file_and_reports_problems(tmp_path, capsys):
    data = default_data()
    data["version"] = "3.0"
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data))
    call_command("load_qad_template", str(good))
    assert "Loaded QAD template v3.0" in capsys.readouterr().out
    assert QadTemplate.objects.get(status=TemplateStatus.ACTIVE).version == "3.0"

    data["version"] = "4.0"
    data["sections"][0]["assessed_by"] = ["pab"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CommandError) as failed:
        call_command("load_qad_template", str(bad))
    assert "section 1: “assessed_by” names unknown body 'pab'" in str(failed.value)
    assert not QadTemplate.objects.filter(version="4.0").exists()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_qad_template", str(tmp_path / "missing.json"))


def test_the_admin_upload_form_loads_or_lists_the_problems(client, admin_user):
    client.force_login(admin_user)
    url = "/admin/documents/qadtemplate/load/"
    assert client.get(url).status_code == 200

    data = default_data()
    data["version"] = "5.0"
    data["title"] = ""
    response = client.post(url, {"file": SimpleUploadedFile("qad.json", as_bytes(data)), "activate": "on"})
    assert response.status_code == 200
    assert "template: “title” is empty." in response.content.decode()
    assert not QadTemplate.objects.filter(version="5.0").exists()

    data["title"] = "MHHS QAD"
    response = client.post(url, {"file": SimpleUploadedFile("qad.json", as_bytes(data)), "activate": "on"})
    assert response.status_code == 302
    assert QadTemplate.objects.get(status=TemplateStatus.ACTIVE).version == "5.0"


def test_versions_keep_their_template_and_a_new_version_moves_to_the_active_one(
    make_application, stages, member, admin_user
):
    application = make_application()
    stages.initial_submitted(application)
    stages.review(application, "initial_qad", "request_changes", "Please expand 1.4.")
    v1 = stages.version(application, "initial", 1)
    data = copy.deepcopy(default_data())
    data["version"] = "2.0"
    # The new template drops question 1.5 and adds 1.6.
    first = data["sections"][0]["questions"]
    first[:] = [q for q in first if q["number"] != "1.5"] + [{"number": "1.6", "text": "A new question."}]
    qad_template_load(actor=admin_user, content=as_bytes(data))

    v2 = qad_answer_save(
        actor=member, application_id=application.pk, kind="initial", question_number="1.4", text="Expanded."
    )
    v1.refresh_from_db()
    assert v1.template.version == "1.0"
    assert v2.template.version == "2.0"
    numbers = set(v2.answers.values_list("question__number", flat=True))
    assert "1.5" not in numbers and "1.6" not in numbers and "1.1" in numbers


def test_the_admin_activates_a_template_and_publishes_a_declaration(client, admin_user):
    from portal.documents.models import Declaration

    data = default_data()
    data["version"] = "6.0"
    newer = qad_template_load(actor=admin_user, content=as_bytes(data))
    old = QadTemplate.objects.get(version="1.0")
    client.force_login(admin_user)
    response = client.post(
        "/admin/documents/qadtemplate/", {"action": "activate", "_selected_action": [old.pk]}, follow=True
    )
    assert response.status_code == 200
    old.refresh_from_db()
    newer.refresh_from_db()
    assert (old.status, newer.status) == (TemplateStatus.ACTIVE, TemplateStatus.RETIRED)

    current = Declaration.objects.get(is_current=True)
    same = client.post("/admin/documents/declaration/add/", {"text": current.text})
    assert same.status_code == 200 and "same as the current declaration" in same.content.decode()
    response = client.post("/admin/documents/declaration/add/", {"text": "I declare that the Final QAD is true."})
    assert response.status_code == 302
    latest = Declaration.objects.get(is_current=True)
    assert latest.version == current.version + 1 and latest.created_by == admin_user
    assert AuditEvent.objects.filter(action="qad_declaration.publish", target_id=str(latest.pk)).exists()
