"""The small world the authorization matrix and the header tests run against, built once per module.

Two organisations, Northern (ours) and Rival (the other), each with a Supplier application on the
Non-SIT route walked through the real services up to the BSC PAB's decision, plus the objects that
pages and operations address (a defect, a work-off item, a signing delegate, a completion report, a
PAB meeting with the application's paper and a pack). One user per subject: an anonymous caller,
Northern's member and director, and one user for each staff role. Rival's own users exist only to act
on Rival's application; the matrix asks as Northern's users for Rival's objects.

`sign_in(client, user)` gives a fully signed-in session: the password step and the authenticator
code, as allauth records them, so that staff and directors are not sent to set up or enter a second
factor.
"""

import datetime
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from allauth.mfa.models import Authenticator
from django.test import Client

from portal.accounts.models import User
from portal.accounts.roles import PARTICIPANT_ROLES, STAFF_ROLES, Role
from portal.core.errors import ApplicationError
from portal.factories import TEST_PASSWORD, MpidFactory, OrganisationFactory, make_member, make_staff
from portal.participants.models import Organisation
from portal.qualification.journey import advance_application
from portal.qualification.models import Application, Task
from portal.qualification.services import application_create

# An id no object has: addresses whose object the world does not hold answer as missing.
MISSING = 987654

ANONYMOUS = "anonymous"
MEMBER = "member"
DIRECTOR = "director"
STAFF_ORDER = [role for role in Role if role in STAFF_ROLES]
# Every subject of the matrix, in the order the tables read: the caller's name, or the staff role.
SUBJECTS: list[str] = [ANONYMOUS, MEMBER, DIRECTOR, *[role.value for role in STAFF_ORDER]]


def sign_in(client: Client, user: User) -> Client:
    """Sign `user` in on `client` as after the password and the authenticator code, recorded in the
    session the way allauth records them (as portal/conftest.py's `force_login` does for a test; this
    one also serves the package-scoped clients, which that function-scoped patch does not reach)."""
    client.force_login(user)
    now = time.time()
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    mfa: dict[str, Any] = {"method": "mfa", "at": now, "type": "totp"}
    if authenticator is not None:
        mfa["id"] = authenticator.pk
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{"method": "password", "at": now, "email": user.email}, mfa]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()
    return client


@dataclass
class Side:
    """One organisation's part of the world: its users and the ids its addresses use."""

    organisation: Organisation
    member: User
    director: User
    application: Application
    ids: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    ours: Side
    other: Side
    staff: dict[Role, User]
    users: dict[str, User | None] = field(default_factory=dict)

    def user(self, subject: str) -> User | None:
        return self.users[subject]


def _try(make: Callable[[], Any]) -> Any:
    """An object the world would like to hold; None when the services refuse it at this stage."""
    try:
        return make()
    except ApplicationError as error:
        import os

        if os.environ.get("WORLD_DEBUG"):
            print("world:", type(error).__name__, error.message)
        return None


def _pk(obj: Any) -> int:
    return int(obj.pk) if obj is not None else MISSING


def _first_pk(queryset: Any) -> int:
    return _pk(queryset.order_by("pk").first())


def build_world() -> World:
    staff = {
        role: make_staff(role, email=f"{role.value}@matrix-bodies.test", full_name=f"Matrix {role.label}")
        for role in STAFF_ORDER
    }
    admin = staff[Role.ADMINISTRATOR]
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    # Names and codes of their own, so that tests using portal/conftest.py's fixtures alongside the
    # world (in the same package) do not collide with it.
    ours = _side("Matrix Northern Energy Ltd", "MXNA", "matrix-northern", staff)
    other = _side("Matrix Rival Power plc", "MXRB", "matrix-rival", staff)
    # Shared objects (not an organisation's): a PAB meeting with both applications on its agenda.
    _governance(ours, other, staff)
    users: dict[str, User | None] = {ANONYMOUS: None, MEMBER: ours.member, DIRECTOR: ours.director}
    users.update({role.value: user for role, user in staff.items()})
    return World(ours=ours, other=other, staff=staff, users=users)


def _side(name: str, code: str, domain: str, staff: dict[Role, User]) -> Side:
    organisation = cast(Organisation, OrganisationFactory(name=name))
    MpidFactory(organisation=organisation, code=code)
    member = make_member(organisation, email=f"member@{domain}.test", full_name=f"{name} member")
    director = make_member(organisation, director=True, email=f"director@{domain}.test", full_name=f"{name} director")

    def actor_for(task: Task, role: Role) -> User:
        if role in PARTICIPANT_ROLES:
            return director if role == Role.PARTICIPANT_DIRECTOR else member
        return staff[role]

    application = application_create(
        actor=member,
        organisation_id=organisation.pk,
        mpid_code=code,
        market_role_code="SUP",
        route_code="non_sit_supplier_agent",
    )
    application = advance_application(
        application, actor_for=actor_for, stop_before="approval_bsc_pab", password=TEST_PASSWORD
    )
    side = Side(organisation=organisation, member=member, director=director, application=application)
    _extras(side, staff)
    return side


def _extras(side: Side, staff: dict[Role, User]) -> None:
    from portal.activation.models import ActivationChecklistItem
    from portal.dip.models import DipId, DipOnboardingStep
    from portal.documents.models import Clarification, DirectorSignature, EvidenceFile, QadQuestion, QadSection
    from portal.documents.services import signing_delegate_grant
    from portal.notifications.models import Notification
    from portal.prequalification.models import RelianceProposalItem
    from portal.qualification.models import Attachment
    from portal.testing.models import (
        DipFlow,
        PitCriterionResult,
        ReadinessItem,
        Requirement,
        RttmEntry,
        RttmSnapshot,
        TestCase,
        TestExecution,
        TestScenario,
    )
    from portal.testing.reports import completion_report_request

    application, member, director = side.application, side.member, side.director
    app_id = application.pk
    execution = TestExecution.objects.filter(application=application).order_by("pk").first()
    # Defects and work-off items are raised only while Qualification Testing is open; this application is
    # past it, so their addresses are asked for with an id nothing has (see authz_table.MISSING_OBJECTS).
    report = _try(lambda: completion_report_request(actor=member, application_id=app_id))
    delegate = _try(
        lambda: signing_delegate_grant(actor=director, organisation_id=side.organisation.pk, user_id=member.pk)
    )
    pit_result = PitCriterionResult.objects.filter(application=application).prefetch_related("evidence").first()
    pit_evidence = pit_result.evidence.first() if pit_result is not None else None
    execution_evidence = execution.evidence.first() if execution is not None else None
    side.ids.update(
        application_id=app_id,
        organisation_id=side.organisation.pk,
        task_code="pit",
        attachment_id=_first_pk(Attachment.objects.filter(entry__task__application=application)),
        notification_id=_first_pk(Notification.objects.filter(recipient=member)),
        pqs_item_id=_first_pk(RelianceProposalItem.objects.filter(pqs__application=application)),
        pit_criterion_code=pit_result.criterion.code if pit_result is not None else "none",
        pit_evidence_id=_pk(pit_evidence),
        rttm_requirement=(
            RttmEntry.objects.filter(application=application).values_list("requirement__identifier", flat=True).first()
            or "REQ-001"
        ),
        snapshot_id=_first_pk(RttmSnapshot.objects.filter(application=application)),
        readiness_item_code=ReadinessItem.objects.order_by("pk").values_list("code", flat=True).first() or "none",
        execution_id=_pk(execution),
        execution_evidence_id=_pk(execution_evidence),
        defect_id=MISSING,
        report_id=_pk(report),
        workoff_item_id=MISSING,
        delegate_id=_pk(delegate),
        clarification_id=_first_pk(Clarification.objects.filter(submission__application=application)),
        evidence_id=_first_pk(EvidenceFile.objects.filter(application=application)),
        dip_id_id=_first_pk(DipId.objects.filter(mpid__organisation=side.organisation)),
        signature_id=_first_pk(DirectorSignature.objects.filter(application=application)),
        workoff_evidence_id=MISSING,
        # Shared reference data: the same on both sides.
        case_identifier=TestCase.objects.order_by("identifier").values_list("identifier", flat=True).first(),
        scenario_identifier=TestScenario.objects.order_by("identifier").values_list("identifier", flat=True).first(),
        requirement_identifier=Requirement.objects.order_by("identifier").values_list("identifier", flat=True).first(),
        flow_code=DipFlow.objects.order_by("code").values_list("code", flat=True).first(),
        dip_step_code=DipOnboardingStep.objects.order_by("order").values_list("code", flat=True).first(),
        qad_section=QadSection.objects.order_by("pk").values_list("number", flat=True).first(),
        activation_item_code=ActivationChecklistItem.objects.order_by("pk").values_list("code", flat=True).first(),
        qad_question=QadQuestion.objects.order_by("pk").values_list("number", flat=True).first(),
    )


def _governance(ours: Side, other: Side, staff: dict[Role, User]) -> None:
    from portal.approvals.models import PabMeeting
    from portal.approvals.paper_services import pab_paper_prepare, pab_recommendation_record
    from portal.approvals.selectors import working_calendar
    from portal.approvals.services import pab_target_set
    from portal.core.calendar import uk_today

    calendar = working_calendar()
    day = calendar.next_working_day(uk_today() + datetime.timedelta(days=40))
    meeting = PabMeeting.objects.create(
        date=day,
        starts_at=datetime.time(10, 0),
        location="Online (Microsoft Teams)",
        paper_deadline=calendar.add_working_days(day, -5),
    )
    analyst = staff[Role.ELEXON_ANALYST]
    for side in (ours, other):
        app_id = side.application.pk
        item: dict[str, Any] = {"actor": analyst, "meeting_id": meeting.pk, "application_id": app_id}
        _try(functools.partial(pab_target_set, **item))
        _try(functools.partial(pab_recommendation_record, **item, outcome="approved", text="Approve."))
        paper = _try(functools.partial(pab_paper_prepare, **item))
        side.ids["meeting_id"] = meeting.pk
        side.ids["paper_version"] = paper.version if paper is not None else MISSING
    # The pack is made of generated papers (PDFs, not generated here): its addresses ask for a missing one.
    for side in (ours, other):
        side.ids["pack_version"] = MISSING
