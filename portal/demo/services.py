"""Loading the demo data set (`data.py`) into the database.

People and organisations are created directly: they are the starting point, as an administrator
would set them up. Every application is then registered and moved forward only through the ordinary
services (`application_create`, `task_transition`, `application_withdraw`, and the content apps'
services for the PQS, the PIT checklist, DIP onboarding, the QAD answers and the Director's signature,
made with the demo password) by demo users who hold the right roles, so its task threads, audit events
and notifications are exactly what those users' own actions would have made.

The BSC PAB meeting of the demo is held today (`governance.py`): the applications whose story has a
`board` item are walked up to the Board's decision, decided at that meeting with their papers, pack and
letters, and then their stories go on (`after_board`). Each application's status is checked at the end.

The load is idempotent: whatever already exists (matched by e-mail address, organisation name, MPID,
or MPID × market role for an application) is left alone, so a second run adds nothing. It runs in one
transaction, so a failure leaves nothing half-loaded.
"""

from dataclasses import dataclass, field
from functools import cache

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.activation.testing_support import activation_prepare_step
from portal.approvals.demo import approvals_demo_load
from portal.approvals.testing_support import approval_prepare_step, approval_take_step
from portal.core.errors import ApplicationError
from portal.demo.data import (
    APPLICATIONS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    ORGANISATIONS,
    STAFF,
    USUAL_COMMENTS,
    USUAL_ROLE,
    WITH_WORK_OFF,
    WITHOUT_WORK_OFF,
    ApplicationSpec,
    OrganisationSpec,
    Person,
    Script,
    StaffSpec,
    Step,
    Walk,
    Withdraw,
)
from portal.demo.governance import board_meeting_hold
from portal.demo.qt import qt_demo_load
from portal.dip.models import DipEnvironment
from portal.dip.selectors import dip_id_for
from portal.dip.services import dip_id_add
from portal.dip.testing_support import dip_prepare_step
from portal.documents.testing_support import qad_complete_answers, qad_journey_step
from portal.documents.workflow import KIND_FOR_TASK
from portal.participants.models import MarketRole, Membership, Mpid, Organisation
from portal.prequalification.testing import pqs_prepare_step
from portal.qualification.models import Application, Route, Task, TaskDefinition
from portal.qualification.services import application_create, application_withdraw, task_transition
from portal.qualification.workflow import Action, Party, TaskKind, TaskState, holder
from portal.testing.plan_testing_support import qt_prepare_step
from portal.testing.testing_support import pit_prepare_step
from portal.workoff.testing_support import workoff_prepare_step

MAX_STEPS = 60


class DemoDataError(ApplicationError):
    code = "demo_data"
    status = 409


@dataclass
class DemoLoadReport:
    organisations: int = 0
    mpids: int = 0
    users: int = 0
    memberships: int = 0
    applications: list[tuple[Application, ApplicationSpec]] = field(default_factory=list)
    applications_present: int = 0

    @property
    def added_anything(self) -> bool:
        return bool(self.organisations or self.mpids or self.users or self.memberships or self.applications)


@transaction.atomic
def demo_data_load() -> DemoLoadReport:
    """Add whatever part of the demo data set is missing, and say what was added."""
    _check_reference_data()
    report = DemoLoadReport()
    for staff in STAFF:
        _ensure_staff(staff, report)
    for organisation in ORGANISATIONS:
        _ensure_organisation(organisation, report)
    cast = _Cast()
    for spec in APPLICATIONS:
        if Application.objects.filter(mpid__code=spec.mpid, market_role__code=spec.market_role).exists():
            report.applications_present += 1
            continue
        report.applications.append((_play(spec, spec.script, cast), spec))
    # The BSC PAB meeting held today decides on the applications its agenda holds; their stories go on.
    agenda = [(application, spec) for application, spec in report.applications if spec.board is not None]
    if agenda:
        board_meeting_hold(agenda, cast.for_role)
        for application, spec in agenda:
            _play(spec, spec.after_board, cast, application=application)
    for application, spec in report.applications:
        _check(application, spec)
    qt_demo_load()  # an application part-way through QT: idempotent on its own
    approvals_demo_load()  # PAB meetings and target meetings: a separate step, idempotent on its own
    return report


# --- people and organisations ------------------------------------------------------------------


@cache
def _demo_password_hash() -> str:
    # Hashed once per run: every demo account shares the one published demo password.
    return make_password(DEMO_PASSWORD)


def _check_reference_data() -> None:
    missing = sorted(
        {f"route {s.route}" for s in APPLICATIONS if not Route.objects.filter(code=s.route).exists()}
        | {
            f"market role {s.market_role}"
            for s in APPLICATIONS
            if not MarketRole.objects.filter(code=s.market_role).exists()
        }
        | {f"group {r.value}" for r in {s.role for s in STAFF} if not Group.objects.filter(name=r.value).exists()}
    )
    if missing:
        raise DemoDataError(
            "The reference data the demo needs is missing (" + ", ".join(missing) + "). "
            "Run `manage.py migrate`, or `manage.py load_reference_data --reset` if it was edited away."
        )


def _ensure_user(email: str, full_name: str, job_title: str, report: DemoLoadReport) -> tuple[User, bool]:
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    first_name, _, last_name = full_name.partition(" ")
    user = User.objects.create(
        email=email,
        username=email,
        full_name=full_name,
        first_name=first_name,
        last_name=last_name,
        job_title=job_title,
        password=_demo_password_hash(),
    )
    report.users += 1
    return user, True


def _ensure_totp(user: User) -> None:
    """Staff users and directors must sign in with an authenticator app: the demo ones share the
    published demo secret."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(DEMO_TOTP_SECRET)}
        )


def _ensure_staff(spec: StaffSpec, report: DemoLoadReport) -> None:
    user, created = _ensure_user(spec.email, spec.full_name, spec.job_title, report)
    _ensure_totp(user)
    if not created:
        return
    user.groups.add(Group.objects.get(name=spec.role.value))
    if spec.superuser:
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])


def _ensure_organisation(spec: OrganisationSpec, report: DemoLoadReport) -> None:
    organisation, created = Organisation.objects.get_or_create(
        name=spec.name,
        defaults={
            "company_number": spec.company_number,
            "is_new_entrant": spec.is_new_entrant,
            "is_bsc_party": spec.is_bsc_party,
            "is_rec_party": spec.is_rec_party,
            "contact_email": spec.contact_email,
        },
    )
    report.organisations += int(created)
    for code in spec.mpids:
        mpid = Mpid.objects.filter(code=code).select_related("organisation").first()
        if mpid is None:
            Mpid.objects.create(code=code, organisation=organisation)
            report.mpids += 1
        elif mpid.organisation_id != organisation.pk:
            raise DemoDataError(
                f"The demo MPID {code} already belongs to {mpid.organisation.name}, not {organisation.name}."
            )
    for person in spec.people:
        user, _ = _ensure_user(person.email, person.full_name, person.job_title, report)
        _, created = Membership.objects.get_or_create(
            user=user, organisation=organisation, defaults={"is_director": person.director}
        )
        report.memberships += int(created)
        if person.director:
            _ensure_totp(user)


# --- applications ------------------------------------------------------------------------------


class _Cast:
    """Who plays each part: the demo user holding a role, for one application."""

    def __init__(self) -> None:
        emails = [s.email for s in STAFF] + [p.email for o in ORGANISATIONS for p in o.people]
        self._users = {u.email.lower(): u for u in User.objects.filter(email__in=emails)}
        self._organisations = {o.name: o for o in ORGANISATIONS}

    def user(self, email: str) -> User:
        return self._users[email.lower()]

    def for_role(self, role: Role, spec: ApplicationSpec) -> User:
        organisation = self._organisations[spec.organisation]
        person: Person | None = None
        if role == Role.PARTICIPANT_MEMBER:
            person = organisation.members[0]
        elif role == Role.PARTICIPANT_DIRECTOR:
            person = organisation.director
        if person is not None:
            return self.user(person.email)
        staff = [s for s in STAFF if s.role == role]
        if not staff:
            raise DemoDataError(f"The demo data has no user with the role {role.label}.")
        return self.user(staff[spec.analyst % len(staff)].email)


def _play(spec: ApplicationSpec, script: Script, cast: _Cast, *, application: Application | None = None) -> Application:
    """Play a script of the application's story: registering the application first if not given."""
    if application is None:
        organisation = Organisation.objects.get(name=spec.organisation)
        application = application_create(
            actor=cast.for_role(Role.PARTICIPANT_MEMBER, spec),
            organisation_id=organisation.pk,
            mpid_code=spec.mpid,
            market_role_code=spec.market_role,
            route_code=spec.route,
        )
    for step in script:
        if isinstance(step, Walk):
            _walk(application, spec, cast, step)
        elif isinstance(step, Step):
            actor = cast.user(step.by) if step.by else cast.for_role(step.role, spec)
            _act(application, spec, cast, actor, step.task, step.action, step.comment)
        elif isinstance(step, Withdraw):
            actor = cast.user(step.by) if step.by else cast.for_role(Role.PARTICIPANT_MEMBER, spec)
            application_withdraw(actor=actor, application_id=application.pk, reason=step.reason)
    return application


def _check(application: Application, spec: ApplicationSpec) -> None:
    application.refresh_from_db()
    if application.status != spec.expected_status:
        raise DemoDataError(
            f"The demo application {spec.mpid} {spec.market_role} ended {application.get_status_display()}, "
            f"not {spec.expected_status.label}: has the process definition been changed?"
        )


def _walk(application: Application, spec: ApplicationSpec, cast: _Cast, walk: Walk) -> None:
    for _ in range(MAX_STEPS):
        application.refresh_from_db()
        if application.is_closed:
            return
        tasks = [t for t in application.tasks.select_related("definition").order_by("order") if t.code not in walk.hold]
        found = next(((t, s) for t in tasks if (s := _usual_step(t, work_off=walk.work_off)) is not None), None)
        if found is None:
            return
        task, (party, action) = found
        if task.code == walk.until_before:
            return
        roles = [Role(r) for r in task.definition.roles_for(party)]
        usual = USUAL_ROLE.get((task.code, action))
        role = usual if usual in roles else roles[0]
        _act(application, spec, cast, cast.for_role(role, spec), task.code, action)
    raise DemoDataError(f"The demo application {spec.mpid} {spec.market_role} did not settle in {MAX_STEPS} steps.")


def _usual_step(task: Task, *, work_off: bool) -> tuple[Party, Action] | None:
    """The step a task usually takes next, and the party that takes it (None: nobody need act)."""
    party = holder(task.definition.kind, task.state)
    if party is None:
        return None
    kind = TaskKind(task.definition.kind)
    if kind == TaskKind.SUBMISSION:
        if party == Party.ASSURER:
            return party, Action.ACCEPT
        submit_optional = work_off and task.code == "workoff"
        if task.definition.is_optional and not submit_optional and task.state != TaskState.CHANGES_REQUESTED:
            return party, Action.MARK_NOT_REQUIRED
        return party, Action.SUBMIT
    if kind == TaskKind.SIGNOFF:
        return party, Action.SIGN
    if kind == TaskKind.APPROVAL:
        return party, (Action.APPROVE if party == Party.ASSURER else Action.SUBMIT)
    return party, (Action.START if task.state == TaskState.NOT_STARTED else Action.COMPLETE)


def _act(
    application: Application,
    spec: ApplicationSpec,
    cast: _Cast,
    actor: User,
    task_code: str,
    action: Action,
    comment: str = "",
) -> None:
    comment = comment or _usual_comment(application, spec, task_code, action)
    _prepare(application, spec, cast, actor, task_code, action)
    # Submitting a QAD and signing the Final QAD (with the signer's password) go through the
    # documents app's own steps; everything else is the task's generic action.
    done = qad_journey_step(
        actor=actor,
        application=application,
        task_code=task_code,
        action=action,
        password=DEMO_PASSWORD,
        comment=comment,
    )
    if done is not None:
        return
    # An approval body's decision goes through its decision service, the Board's at its meeting.
    if approval_take_step(application=application, task_code=task_code, action=action, actor=actor, comment=comment):
        return
    task_transition(actor=actor, application_id=application.pk, task_code=task_code, action=action, comment=comment)


def _prepare(
    application: Application, spec: ApplicationSpec, cast: _Cast, actor: User, task_code: str, action: Action
) -> None:
    """Complete a task's structured content before it is submitted or accepted, as the participant and
    the reviewers would have done: the PQS and its reliance items, the PIT checklist and RTTMs, the DIP
    onboarding steps and DIP ID, the QAD's answers and evidence."""
    if (
        task_code == "dip_onboarding"
        and action == Action.SUBMIT
        and spec.dip_id
        and dip_id_for(application, DipEnvironment.PRE_PRODUCTION) is None
    ):
        dip_id_add(
            actor=actor, application_id=application.pk, environment=DipEnvironment.PRE_PRODUCTION, value=spec.dip_id
        )
    for prepare_step in (
        pqs_prepare_step,
        pit_prepare_step,
        dip_prepare_step,
        qt_prepare_step,
        workoff_prepare_step,
        activation_prepare_step,
    ):
        prepare_step(application=application, task_code=task_code, action=action, actor=actor)
    approval_prepare_step(
        application=application,
        task_code=task_code,
        action=action,
        actor_for=lambda _task, role: cast.for_role(role, spec),
    )
    if task_code in KIND_FOR_TASK and action == Action.SUBMIT:
        qad_complete_answers(
            actor=actor, application=application, kind=KIND_FOR_TASK[task_code], text=_qad_answer(application)
        )


def _qad_answer(application: Application) -> str:
    return (
        f"{application.organisation.name} meets this requirement for {application.mpid.code} as "
        f"{application.market_role.name}. The evidence pack shows the tests run, their results and the "
        "RTTM rows they cover; the operational procedure is owned by our MHHS operations lead."
    )


def _usual_comment(application: Application, spec: ApplicationSpec, task_code: str, action: Action) -> str:
    template = USUAL_COMMENTS.get((task_code, action))
    if template is None:
        return f"{Action(action).label}."
    testing = (
        TaskDefinition.objects.filter(route_id=application.route_id, code="qt").values_list("title", flat=True).first()
        or "Qualification Testing"
    )
    work_off = any(isinstance(s, Walk) and s.work_off for s in spec.script)
    organisation = application.organisation
    market_role = application.market_role
    return template.format(
        org=organisation.name,
        mpid=spec.mpid,
        role=market_role.name,
        role_code=market_role.code,
        testing=testing,
        testing_outcome=WITH_WORK_OFF if work_off else WITHOUT_WORK_OFF,
        dip_id=spec.dip_id,
    )
