"""What the demo data set contains. The set is loaded once for this module, in a transaction that is
rolled back afterwards; every test here only reads it."""

import re
import time
from collections.abc import Iterator
from io import StringIO
from typing import Any, cast

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.contrib import admin
from django.core.management import call_command
from django.db import transaction
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from portal.accounts.mfa import totp_code, user_requires_mfa
from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.accounts.selectors import user_roles
from portal.activation.models import Handoff
from portal.approvals.demo import approvals_demo_load
from portal.approvals.models import (
    ApprovalDecision,
    GenerationStatus,
    LetterStatus,
    MeetingStatus,
    PabMeeting,
    PabPack,
    PabPaper,
    PabTarget,
    QualificationLetter,
)
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.calendar import uk_today
from portal.demo.data import APPLICATIONS, DEMO_PASSWORD, DEMO_TOTP_SECRET, ORGANISATIONS
from portal.demo.selectors import demo_login_list
from portal.notifications.models import Notification
from portal.participants.models import Membership, Mpid, Organisation, RoleGroup
from portal.qualification.models import Application, Route, Task, TaskEntry
from portal.qualification.workflow import Action, ApplicationStatus, Decision, TaskState
from portal.registry.models import RegisterEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """What `load_demo_data` printed. Part of the set exists already (one organisation and one of its
    MPIDs): the load uses it rather than duplicating it."""
    with django_db_blocker.unblock(), transaction.atomic():
        organisation = ORGANISATIONS[0]
        existing = Organisation.objects.create(name=organisation.name, company_number=organisation.company_number)
        Mpid.objects.create(code=organisation.mpids[0], organisation=existing)
        yield _run("load_demo_data")
        transaction.set_rollback(True)


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = (Organisation, Mpid, User, Membership, Application, Task, TaskEntry, AuditEvent, Notification)
    return {model.__name__: model.objects.count() for model in models} | {
        "group members": User.groups.through.objects.count()
    }


def test_a_load_completes_what_is_missing_and_a_second_load_adds_nothing(demo: str) -> None:
    assert f"Demo data loaded: {len(ORGANISATIONS) - 1} organisations" in demo
    assert re.search(r"QA-\d{5}", demo) and "Rejected" in demo and "Withdrawn" in demo
    assert Organisation.objects.filter(name=ORGANISATIONS[0].name).count() == 1
    assert Application.objects.count() == len(APPLICATIONS)
    after_first = _counts()

    second = _run("load_demo_data")

    assert "nothing added" in second
    assert f"{len(APPLICATIONS)} demo applications present" in second
    assert _counts() == after_first
    report = audit_verify()
    assert report.ok and report.checked == AuditEvent.objects.count() > 100


def test_the_demo_has_meetings_and_targets_and_loading_them_again_adds_nothing() -> None:
    assert PabMeeting.objects.count() >= 11
    targets = list(PabTarget.objects.filter(is_current=True).select_related("application", "meeting"))
    assert targets, "a demo application with a signed Final QAD needing PAB should be targeted"
    for target in targets:
        tasks = {t.code: t for t in target.application.tasks.all()}
        assert tasks["director_signoff"].state == "completed" and "approval_bsc_pab" in tasks
        assert Notification.objects.filter(application=target.application, subject__contains="Target BSC PAB").exists()
    signed_needing_pab = (
        Application.objects.exclude(status__in=["withdrawn", "non_completion", "rejected"])
        .filter(tasks__code="director_signoff", tasks__state="completed")
        .filter(tasks__code="approval_bsc_pab", tasks__state="not_started")
    )
    assert set(signed_needing_pab.values_list("pk", flat=True)) <= {t.application_id for t in targets}

    counts = (PabMeeting.objects.count(), PabTarget.objects.count(), Notification.objects.count())
    report = approvals_demo_load()
    assert report.meetings_added == 0 and report.targeted == []
    assert (PabMeeting.objects.count(), PabTarget.objects.count(), Notification.objects.count()) == counts


def _app(mpid: str, role: str) -> Application:
    return Application.objects.get(mpid__code=mpid, market_role__code=role)


def _states(application: Application) -> dict[str, str]:
    return dict(application.tasks.values_list("code", "state"))


def test_demo_puts_applications_at_every_stage() -> None:
    assert Application.objects.count() == len(APPLICATIONS)

    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == {
        ApplicationStatus.IN_PREPARATION,
        ApplicationStatus.IN_TESTING,
        ApplicationStatus.FINAL_QAD,
        ApplicationStatus.IN_APPROVAL,
        ApplicationStatus.QUALIFIED,
        ApplicationStatus.IN_SERVICE_ACTIVATION,
        ApplicationStatus.ACTIVE,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.REJECTED,
    }

    # Just created: nothing done yet.
    created = _app("THSL", "SUP")
    assert created.status == ApplicationStatus.IN_PREPARATION
    assert not TaskEntry.objects.filter(task__application=created).exists()

    # Submitted, and waiting on the reviewers.
    submitted = _states(_app("HLCN", "SDS"))
    assert submitted["pit"] == TaskState.SUBMITTED and submitted["dip_onboarding"] == TaskState.SUBMITTED
    assert _states(_app("BRTN", "SUP"))["final_qad"] == TaskState.SUBMITTED

    # Changes requested, with the reviewer's comment in the thread.
    changes = Task.objects.get(application=_app("HLCN", "ADS"), code="initial_qad")
    assert changes.state == TaskState.CHANGES_REQUESTED
    request = changes.entries.get(action=Action.REQUEST_CHANGES)
    assert Role.ELEXON_ANALYST in user_roles(request.actor) and len(request.comment) > 100

    # In testing: one testing, one submitted to Testing Assurance.
    assert _states(_app("AURA", "SUP"))["qt"] == TaskState.IN_PROGRESS
    assert _states(_app("WYVN", "SUP"))["qt"] == TaskState.SUBMITTED

    # Final QAD agreed, waiting for the Director.
    final = _states(_app("AURB", "SUP"))
    assert final["final_qad"] == TaskState.COMPLETED and final["director_signoff"] == TaskState.NOT_STARTED

    # Waiting for PAB: every other approval done.
    pab = _app("BRTW", "SUP")
    approvals = dict(pab.tasks.filter(code__startswith="approval_").values_list("code", "state"))
    assert approvals == {
        "approval_dip_manager": TaskState.COMPLETED,
        "approval_rec_code_manager": TaskState.COMPLETED,
        "approval_bsc_pab": TaskState.NOT_STARTED,
    }

    # Deferred by PAB and resubmitted for the next meeting.
    deferred = Task.objects.get(application=_app("SLWY", "LDSO"), code="approval_bsc_pab")
    assert deferred.state == TaskState.SUBMITTED
    assert list(deferred.entries.values_list("action", flat=True)) == [Action.DEFER, Action.SUBMIT]
    # …and the new-entrant LDSO, placing no reliance, did not complete the PQS.
    assert _states(deferred.application)["pqs"] == TaskState.NOT_REQUIRED

    assert _app("MRDC", "MEM").status == ApplicationStatus.ACTIVE
    assert _app("MRDN", "MEM").status == ApplicationStatus.QUALIFIED
    assert _app("MRDN", "MEM").qualified_at is not None
    assert _states(_app("ECEN", "LDSO"))["service_activation"] == TaskState.IN_PROGRESS
    assert _app("LAMP", "UMSDS").status == ApplicationStatus.ACTIVE

    withdrawn = _app("FNDL", "SUP")
    assert withdrawn.status == ApplicationStatus.WITHDRAWN and withdrawn.closed_reason

    rejected = _app("TMVM", "MEM")
    assert rejected.status == ApplicationStatus.REJECTED
    assert rejected.tasks.get(code="approval_rec_code_manager").decision == Decision.REJECTED

    # Every transition told somebody.
    assert Notification.objects.count() > len(APPLICATIONS)


def test_demo_holds_a_month_of_governance() -> None:
    """A BSC PAB meeting held today with three applications, their papers and the pack as real PDFs,
    the Board's decisions (one deferred), the letters issued and e-mailed, REC and DIP approvals, the
    public register updated and two hand-offs to Service Activation completed."""
    meeting = PabMeeting.objects.get(date=uk_today())
    assert meeting.status == MeetingStatus.HELD
    decisions = {d.application.mpid.code: d for d in ApprovalDecision.objects.filter(meeting=meeting)}
    assert {code: d.outcome for code, d in decisions.items()} == {
        "LAMP": Decision.APPROVED,
        "ECEN": Decision.APPROVED_WITH_CONDITIONS,
        "SLWY": Decision.DEFERRED,
    }
    assert decisions["ECEN"].conditions.exists()
    # The deferred application moved to the next meeting, and was resubmitted for it.
    slwy = PabTarget.objects.get(application=decisions["SLWY"].application, is_current=True)
    assert slwy.meeting.date > meeting.date and slwy.previous is not None

    papers = PabPaper.objects.filter(meeting=meeting, status=GenerationStatus.READY)
    assert papers.count() == 3
    for paper in papers:
        text = _pdf_text(paper.file)
        assert paper.application.mpid.code in text and paper.application.organisation.name in text
    pack = PabPack.objects.get(meeting=meeting, status=GenerationStatus.READY)
    pack_text = _pdf_text(pack.file)
    assert pack.page_count >= 3 and all(code in pack_text for code in ("LAMP", "ECEN", "SLWY"))

    letters = QualificationLetter.objects.filter(decision__meeting=meeting)
    assert {letter.application.mpid.code for letter in letters} == {"LAMP", "ECEN"}
    for letter in letters:
        assert letter.status == LetterStatus.ISSUED and letter.issued_by is not None
        assert letter.application.organisation.name in _pdf_text(letter.file)
        mailed = Notification.objects.filter(application=letter.application, subject__startswith="Your qualification")
        assert mailed.exists() and all(n.attachments for n in mailed)

    # REC and DIP approvals, the register, and the hand-offs.
    assert ApprovalDecision.objects.filter(body="rec_code_manager", outcome=Decision.APPROVED).count() >= 3
    assert ApprovalDecision.objects.filter(body="dip_manager", outcome=Decision.APPROVED).count() >= 5
    current = RegisterEntry.objects.filter(is_current=True)
    assert current.filter(register="rec_party", mpid_code="MRDN").exists()
    assert set(current.filter(register="mhhs", status="active").values_list("mpid_code", flat=True)) == {
        "LAMP",
        "MRDC",
    }
    assert Handoff.objects.filter(completed_at__isnull=False).count() == 2


def _pdf_text(stored: Any) -> str:
    with stored.open("rb") as handle:
        return " ".join(page.extract_text() for page in PdfReader(handle).pages)


def test_demo_covers_every_role_group_and_route_with_plausible_organisations() -> None:
    assert Organisation.objects.count() >= 8
    assert set(Application.objects.values_list("market_role__role_group__code", flat=True)) == set(
        RoleGroup.objects.values_list("code", flat=True)
    )
    assert set(Application.objects.values_list("route__code", flat=True)) == set(
        Route.objects.values_list("code", flat=True)
    )
    assert set(Application.objects.values_list("market_role__code", flat=True)) >= {"ADS", "SDS", "UMSDS"}
    assert Organisation.objects.filter(is_new_entrant=True, applications__route__code="new_entrant_ldso").exists()
    for organisation in Organisation.objects.all():
        codes = list(organisation.mpids.values_list("code", flat=True))
        assert codes and all(re.fullmatch(r"[A-Z]{4}", code) for code in codes)
        assert organisation.memberships.filter(is_director=False).exists(), organisation
        assert organisation.memberships.filter(is_director=True).exists(), organisation


def test_every_role_has_a_demo_user_who_holds_it_and_uses_the_demo_password() -> None:
    logins = demo_login_list()
    for role in Role:
        holders = [login for login in logins if login.role == role]
        assert holders, role
        for login in holders:
            user = User.objects.get(email=login.email)
            assert role in user_roles(user), (role, login.email)
            assert user.check_password(DEMO_PASSWORD)
            assert user.username == user.email
    assert len([login for login in logins if login.role == Role.ELEXON_ANALYST]) == 2
    administrator = User.objects.get(email=next(x.email for x in logins if x.role == Role.ADMINISTRATOR))
    assert administrator.is_superuser and administrator.is_staff
    assert len(DEMO_PASSWORD) >= 12


def test_demo_staff_and_directors_sign_in_with_the_published_authenticator_secret() -> None:
    """They must use a second factor; the demo ones share one published secret (`manage.py demo_totp`)."""
    must = [user for user in User.objects.all() if user_requires_mfa(user)]
    assert must and any(Role.PARTICIPANT_DIRECTOR in user_roles(user) for user in must)
    for user in must:
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        assert decrypt(authenticator.data["secret"]) == DEMO_TOTP_SECRET, user.email
    out = StringIO()
    call_command("demo_totp", stdout=out)
    assert out.getvalue().split()[0] in {totp_code(DEMO_TOTP_SECRET, time.time() + delta) for delta in (-30, 0)}
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert DEMO_TOTP_SECRET in out.getvalue() and "demo_totp" in out.getvalue()


def test_demo_logins_lists_a_login_for_every_role_with_the_password() -> None:
    out = StringIO()
    call_command("demo_logins", "--url", "http://localhost:9000/", stdout=out)
    output = out.getvalue()
    assert "http://localhost:9000/" in output and DEMO_PASSWORD in output
    for role in Role:
        assert role.label in output
    assert "Aurora Energy Supply Ltd" in output
    assert "http://localhost:9000/admin/" in output


def _admin_url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_registered_model_renders_its_list_and_a_record_for_a_superuser(client: Client) -> None:
    administrator = cast(User, User.objects.get(email="alex.morgan@portal.example"))
    client.force_login(administrator)
    for model in admin.site._registry:
        assert client.get(_admin_url(model, "changelist")).status_code == 200, model
        obj = model._default_manager.first()
        if obj is not None:
            assert client.get(_admin_url(model, "change", obj.pk)).status_code == 200, model
        if admin.site._registry[model].search_fields:
            assert client.get(_admin_url(model, "changelist"), {"q": "Aurora"}).status_code == 200, model


def test_one_application_is_part_way_through_qualification_testing() -> None:
    from portal.testing.exit_rules import exit_checklist
    from portal.testing.models import DefectStatus, EvidenceReview, ExecutionStatus
    from portal.workoff.models import WorkOffStatus

    application = _app("AURA", "SUP")
    runs = application.test_executions.all()
    assert runs.filter(status=ExecutionStatus.PASSED, review=EvidenceReview.ACCEPTED).count() == 10
    assert runs.filter(status=ExecutionStatus.PASSED, review=EvidenceReview.PENDING).count() == 2
    assert runs.filter(status=ExecutionStatus.FAILED).count() == 1
    assert runs.filter(status=ExecutionStatus.BLOCKED).count() == 1
    defect = application.defects.get()
    assert (defect.severity, defect.status) == (2, DefectStatus.OPEN)
    item = application.workoff_items.get()
    assert (item.defect_id, item.status) == (defect.pk, WorkOffStatus.PROPOSED)
    results = {rule.code: rule.passed for rule in exit_checklist(application)}
    assert results["plan_agreed"] and results["readiness_confirmed"]
    assert not results["mandatory_cases_passed"]
