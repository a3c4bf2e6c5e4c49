"""The benchmark data set: `python -m bench.generate --scale 10 --database portal_bench`.

At scale 1 (national scale) it holds 300 organisations, 600 applications across every stage, 60 000 test
executions, 6 000 evidence records and 100 000 audit events; `--scale 10` holds ten times as many. The
same seed gives the same rows (timestamps are counted back from the day of generation).

How it is made:
1. the database is created if missing and migrated: the reference data (routes, tasks, market roles, the
   approval matrix, the test catalogue, QAD templates) comes from the migrations;
2. the demo data set is loaded through the ordinary services (`portal.demo.services.demo_data_load`):
   staff with their roles, PAB meetings, letters, a register, an application part-way through QT;
3. the bulk is written with PostgreSQL COPY (psycopg 3 `cursor.copy()`) into the models' own tables, ids
   assigned here and the sequences moved past them: organisations with MPIDs and a member each,
   applications with the tasks of their route in states consistent with their stage, test executions
   of the catalogue's cases with evidence linked, PAB targets, register entries, and audit events that
   continue the demo's hash chain (hashed with `portal.audit.services.event_digest`), head included.

A data set that is already complete is left alone; an incomplete one (an interrupted run) is dropped
and made again.
"""

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

NATIONAL = {
    "organisations": 300,
    "applications": 600,
    "executions": 60_000,
    "evidence": 6_000,
    "audit_events": 100_000,
}
PG: dict[str, Any] = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(dbname="postgres", autocommit=True, **PG)


def database_exists(name: str) -> bool:
    with _pg_admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def database_create(name: str, *, drop: bool = False) -> None:
    from psycopg import sql

    with _pg_admin() as conn:
        if drop:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_setup(database: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_DATABASE"] = database
    import django

    django.setup()


def targets(scale: float) -> dict[str, int]:
    return {key: int(value * scale) for key, value in NATIONAL.items()}


def is_complete(scale: float) -> bool:
    """The audit chain head is written last: it says the run finished."""
    from portal.audit.models import AuditChainHead
    from portal.participants.models import Organisation

    wanted = targets(scale)
    head = AuditChainHead.objects.filter(id=1).first()
    return (
        head is not None
        and head.last_sequence == wanted["audit_events"]
        and Organisation.objects.count() == wanted["organisations"]
    )


# --- COPY -------------------------------------------------------------------------------------------


class Copier:
    """Rows into a model's table through COPY, with ids handed out here."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.next_ids: dict[str, int] = {}

    def next_id(self, model: Any) -> int:
        table = model._meta.db_table
        if table not in self.next_ids:
            with self.connection.cursor() as cursor:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
                self.next_ids[table] = cursor.fetchone()[0] + 1
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def copy(self, model: Any, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """`fields` are model field names (a foreign key by its `<name>_id` attname or its name)."""
        meta = model._meta
        columns = []
        for name in fields:
            field = meta.get_field(name[:-3] if name.endswith("_id") and not _has(meta, name) else name)
            columns.append(field.column)
        column_list = ", ".join(f'"{c}"' for c in columns)
        count = 0
        with self.connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f'COPY "{meta.db_table}" ({column_list}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count

    def reset_sequences(self, models: Iterable[Any]) -> None:
        from django.core.management.color import no_style

        statements = self.connection.ops.sequence_reset_sql(no_style(), list(models))
        with self.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _has(meta: Any, name: str) -> bool:
    try:
        meta.get_field(name)
    except Exception:
        return False
    return True


def j(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- the generator ----------------------------------------------------------------------------------

STATUS_MIX = (
    ("in_preparation", 24),
    ("in_testing", 24),
    ("final_qad", 10),
    ("in_approval", 10),
    ("qualified", 5),
    ("in_service_activation", 5),
    ("active", 14),
    ("withdrawn", 4),
    ("non_completion", 2),
    ("rejected", 2),
)
STAGES = ("preparation", "testing", "final_qad", "approval", "service_activation")
# The stage an application of each status is in (closed ones stopped in the stage drawn for them).
STATUS_STAGE = {
    "in_preparation": 0,
    "in_testing": 1,
    "final_qad": 2,
    "in_approval": 3,
    "qualified": 4,
    "in_service_activation": 4,
    "active": 5,
}
EXECUTION_STATUS_MIX = (("passed", 70), ("passed_with_observations", 8), ("failed", 12), ("blocked", 5), ("not_run", 5))
CURRENT_STAGE_STATES = (
    "completed",
    "completed",
    "submitted",
    "submitted",
    "in_progress",
    "not_started",
    "changes_requested",
)
AUDIT_ACTIONS = (
    ("task.start", "qualification.task"),
    ("task.submit", "qualification.task"),
    ("task.accept", "qualification.task"),
    ("task.request_changes", "qualification.task"),
    ("qt.execution.record", "testing.testexecution"),
    ("qt.execution.review", "testing.testexecution"),
    ("evidence.upload", "documents.evidencefile"),
    ("qad.answer.update", "documents.qadanswer"),
    ("clarification.raise", "documents.clarification"),
    ("auth.login", "accounts.user"),
)


def weighted(rng: random.Random, mix: Sequence[tuple[str, int]]) -> str:
    return rng.choices([m[0] for m in mix], weights=[m[1] for m in mix])[0]


def mpid_codes(taken: set[str]) -> Iterator[str]:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for a in "ZYXWV":
        for b in alphabet:
            for c in alphabet:
                for d in alphabet:
                    code = a + b + c + d
                    if code not in taken:
                        yield code


class Generator:
    def __init__(self, scale: float, seed: int) -> None:
        self.scale = scale
        self.want = targets(scale)
        self.rng = random.Random(seed)
        self.copier = Copier()
        self.now = dt.datetime.now(dt.UTC).replace(hour=9, minute=0, second=0, microsecond=0)
        self.timings: dict[str, float] = {}

    def when(self, days_back_max: float, days_back_min: float = 0) -> dt.datetime:
        seconds = self.rng.uniform(days_back_min * 86400, days_back_max * 86400)
        return (self.now - dt.timedelta(seconds=int(seconds))).replace(microsecond=0)

    def step(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 1)
        print(f"  {name}: {self.timings[name]} s", flush=True)

    def run(self) -> None:
        started = time.monotonic()
        self.load_reference()
        self.organisations()
        self.step("organisations, MPIDs, members", started)
        started = time.monotonic()
        self.applications()
        self.step("applications and tasks", started)
        started = time.monotonic()
        self.executions_and_evidence()
        self.step("test executions and evidence", started)
        started = time.monotonic()
        self.targets_and_register()
        self.step("PAB targets and register entries", started)
        started = time.monotonic()
        from portal.approvals.models import PabTarget
        from portal.documents.models import EvidenceFile
        from portal.participants.models import Membership, Mpid, Organisation
        from portal.qualification.models import Application, Task
        from portal.registry.models import RegisterEntry
        from portal.testing.models import TestExecution

        self.copier.reset_sequences(
            [
                Organisation,
                Mpid,
                Membership,
                self.User,
                Application,
                Task,
                TestExecution,
                EvidenceFile,
                PabTarget,
                RegisterEntry,
                TestExecution.evidence.through,
            ]
        )
        self.audit_events()
        self.step("audit events (hash chain)", started)
        started = time.monotonic()
        # As autovacuum would leave a production database: statistics for the planner, and the visibility
        # map that lets PostgreSQL answer counts from an index alone.
        with self.copier.connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.step("VACUUM ANALYZE", started)

    # reference data and demo people

    def load_reference(self) -> None:
        from django.contrib.auth import get_user_model

        from portal.accounts.roles import Role
        from portal.participants.models import ApprovalRequirement, MarketRole, Mpid, Organisation
        from portal.qualification.models import Application, Route, TaskDefinition
        from portal.testing.models import TestCaseVersion

        self.User = get_user_model()
        self.market_roles = list(MarketRole.objects.filter(is_active=True).select_related("role_group"))
        self.routes = list(Route.objects.filter(is_active=True).prefetch_related("role_groups"))
        self.bodies: dict[int, set[str]] = {}
        for requirement in ApprovalRequirement.objects.all():
            self.bodies.setdefault(requirement.role_group_id, set()).add(requirement.body)
        self.definitions: dict[int, list[Any]] = {}
        for definition in TaskDefinition.objects.order_by("route_id", "order"):
            self.definitions.setdefault(definition.route_id, []).append(definition)
        self.versions_by_group: dict[int, list[tuple[int, int, int]]] = {}
        for version in TestCaseVersion.objects.filter(is_current=True, case__is_active=True).prefetch_related(
            "role_groups"
        ):
            steps = len(version.steps or [])
            for group in version.role_groups.all():
                self.versions_by_group.setdefault(group.pk, []).append((version.case_id, version.pk, steps))
        staff = self.User.objects.filter(groups__name=Role.TESTING_ASSURANCE).order_by("id").first()
        self.reviewer_id = staff.pk if staff else None
        analyst = self.User.objects.filter(groups__name=Role.ELEXON_ANALYST).order_by("id").first()
        self.analyst_id = analyst.pk if analyst else None
        self.taken_mpids = set(Mpid.objects.values_list("code", flat=True))
        self.existing_organisations = Organisation.objects.count()
        self.existing_applications = Application.objects.count()

    def organisations(self) -> None:
        from portal.participants.models import Membership, Mpid, Organisation

        count = self.want["organisations"] - self.existing_organisations
        codes = mpid_codes(self.taken_mpids)
        orgs, mpids, users, members = [], [], [], []
        self.bench_orgs: list[dict[str, Any]] = []
        for n in range(1, count + 1):
            org_id = self.copier.next_id(Organisation)
            created = self.when(900, 400)
            new_entrant = self.rng.random() < 0.08
            orgs.append(
                (
                    org_id,
                    f"Bench Energy {n:05d} Limited",
                    f"BE{n:06d}",
                    new_entrant,
                    self.rng.random() < 0.7,
                    self.rng.random() < 0.8,
                    f"qualification@bench{n:05d}.example",
                    created,
                    created,
                )
            )
            org_mpids = []
            for _ in range(2):
                mpid_id = self.copier.next_id(Mpid)
                code = next(codes)
                mpids.append((mpid_id, code, org_id, created, created))
                org_mpids.append((mpid_id, code))
            user_id = self.copier.next_id(self.User)
            email = f"member{n:05d}@bench{n:05d}.example"
            users.append(
                (user_id, "!", None, False, email, "", "", email, False, True, created, f"Bench Member {n:05d}", "")
            )
            members.append((self.copier.next_id(Membership), user_id, org_id, False, created, created))
            self.bench_orgs.append(
                {"id": org_id, "new_entrant": new_entrant, "mpids": org_mpids, "user_id": user_id, "name": orgs[-1][1]}
            )
        c = self.copier
        c.copy(
            Organisation,
            [
                "id",
                "name",
                "company_number",
                "is_new_entrant",
                "is_bsc_party",
                "is_rec_party",
                "contact_email",
                "created_at",
                "updated_at",
            ],
            orgs,
        )
        c.copy(Mpid, ["id", "code", "organisation_id", "created_at", "updated_at"], mpids)
        c.copy(
            self.User,
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "full_name",
                "job_title",
            ],
            users,
        )
        c.copy(Membership, ["id", "user_id", "organisation_id", "is_director", "created_at", "updated_at"], members)

    def _route_for(self, role: Any, new_entrant: bool) -> Any:
        fitting = [
            r
            for r in self.routes
            if any(g.pk == role.role_group_id for g in r.role_groups.all()) and (new_entrant or not r.new_entrants_only)
        ]
        return self.rng.choice(fitting)

    def applications(self) -> None:
        from portal.qualification.models import Application, Task

        count = self.want["applications"] - self.existing_applications
        apps, tasks = [], []
        self.bench_apps: list[dict[str, Any]] = []
        slots = [(org, mpid) for org in self.bench_orgs for mpid in org["mpids"]]
        for n in range(count):
            org, (mpid_id, mpid_code) = slots[n % len(slots)]
            role = self.rng.choice(self.market_roles)
            route = self._route_for(role, org["new_entrant"])
            bodies = self.bodies.get(role.role_group_id, set())
            definitions = [d for d in self.definitions[route.pk] if d.kind != "approval" or d.approval_body in bodies]
            status = weighted(self.rng, STATUS_MIX)
            closed = status in {"withdrawn", "non_completion", "rejected"}
            stage = self.rng.choice((0, 0, 1)) if closed else STATUS_STAGE[status]
            created = self.when(700, 30 + 60 * stage)
            app_id = self.copier.next_id(Application)
            qualified_at = self.when(120, 1) if stage >= 4 and not closed else None
            activated_at = qualified_at + dt.timedelta(days=10) if status == "active" and qualified_at else None
            closed_at = self.when(60, 1) if closed else None
            apps.append(
                (
                    app_id,
                    org["id"],
                    mpid_id,
                    role.pk,
                    route.pk,
                    status,
                    org["user_id"],
                    qualified_at,
                    activated_at,
                    closed_at,
                    "Stopped for the benchmark." if closed else "",
                    created,
                    self.when(30) if not closed else closed_at,
                )
            )
            states = self._task_states(definitions, stage, status, closed)
            has_pab = False
            for definition, (state, waiting) in zip(definitions, states, strict=True):
                done = state in ("completed", "not_required")
                decision = "approved" if definition.kind == "approval" and state == "completed" else ""
                has_pab |= definition.approval_body == "bsc_pab"
                tasks.append(
                    (
                        self.copier.next_id(Task),
                        app_id,
                        definition.pk,
                        definition.code,
                        state,
                        decision,
                        "" if closed else waiting,
                        definition.order,
                        self.when(60) if not closed else closed_at,
                        self.when(200, 60) if done else None,
                    )
                )
            self.bench_apps.append(
                {
                    "id": app_id,
                    "org": org,
                    "role": role,
                    "stage": stage,
                    "status": status,
                    "created": created,
                    "mpid": mpid_code,
                    "has_pab": has_pab,
                    "qualified_at": qualified_at,
                }
            )
        self.copier.copy(
            Application,
            [
                "id",
                "organisation_id",
                "mpid_id",
                "market_role_id",
                "route_id",
                "status",
                "created_by_id",
                "qualified_at",
                "activated_at",
                "closed_at",
                "closed_reason",
                "created_at",
                "updated_at",
            ],
            apps,
        )
        self.copier.copy(
            Task,
            [
                "id",
                "application_id",
                "definition_id",
                "code",
                "state",
                "decision",
                "waiting_on",
                "order",
                "updated_at",
                "completed_at",
            ],
            tasks,
        )

    def _task_states(self, definitions: list[Any], stage: int, status: str, closed: bool) -> list[tuple[str, str]]:
        """Tasks of earlier stages done, of later stages not yet startable, of the current stage a mix
        (at least one unfinished, dependencies respected)."""
        states: dict[str, str] = {}
        current = [d for d in definitions if STAGES.index(d.stage) == stage] if stage < len(STAGES) else []
        must_leave_open = current[-1].code if current else None
        for d in definitions:
            index = STAGES.index(d.stage)
            deps_done = all(states.get(code, "completed") in ("completed", "not_required") for code in d.depends_on)
            if index < stage:
                state = "not_required" if d.is_optional and self.rng.random() < 0.5 else "completed"
            elif index > stage or not deps_done:
                state = "cannot_start"
            else:
                state = self.rng.choice(CURRENT_STAGE_STATES)
                if status == "qualified":
                    state = "not_started"
                if state == "completed" and d.code == must_leave_open:
                    state = "submitted"
            states[d.code] = state
        waiting = {
            "submitted": "assurer",
            "not_started": "actor",
            "in_progress": "actor",
            "changes_requested": "actor",
        }
        return [(states[d.code], waiting.get(states[d.code], "")) for d in definitions]

    def executions_and_evidence(self) -> None:
        from portal.documents.models import EvidenceFile
        from portal.testing.models import TestExecution

        testing = [
            a for a in self.bench_apps if a["stage"] >= 1 and self.versions_by_group.get(a["role"].role_group_id)
        ]
        total = self.want["executions"]
        per_app = total / max(len(testing), 1)
        evidence_total = self.want["evidence"]
        evidence_per_app = evidence_total / max(len(self.bench_apps), 1)
        executions, evidence, links = [], [], []
        written = 0
        link_model = TestExecution.evidence.through
        for i, app in enumerate(testing):
            left_apps = len(testing) - i
            n = (
                total - written
                if left_apps == 1
                else max(1, min(total - written - (left_apps - 1), round(per_app * self.rng.uniform(0.6, 1.4))))
            )
            written += n
            versions = self.versions_by_group[app["role"].role_group_id]
            start = app["created"] + dt.timedelta(days=30)
            span = max((self.now - start).total_seconds(), 3600)
            for _ in range(n):
                case_id, version_id, steps = self.rng.choice(versions)
                status = weighted(self.rng, EXECUTION_STATUS_MIX)
                executed = (start + dt.timedelta(seconds=int(self.rng.uniform(0, span)))).replace(microsecond=0)
                reviewed = self.rng.random() < 0.6
                step_results = [{"step": s + 1, "status": "passed", "actual": "As expected."} for s in range(steps)]
                executions.append(
                    (
                        self.copier.next_id(TestExecution),
                        app["id"],
                        case_id,
                        version_id,
                        status,
                        f"Tester {self.rng.randint(1, 40)}",
                        executed,
                        j(step_results),
                        "" if status.startswith("passed") else "See the attached log.",
                        ("accepted" if status.startswith("passed") else "rejected") if reviewed else "pending",
                        "",
                        self.reviewer_id if reviewed else None,
                        executed + dt.timedelta(days=2) if reviewed else None,
                        app["org"]["user_id"],
                        executed,
                    )
                )
        self.executions_written = len(executions)
        # Evidence: spread over every application; a third of the files evidence a test run.
        runs_by_app: dict[int, list[int]] = {}
        for row in executions:
            runs_by_app.setdefault(row[1], []).append(row[0])
        written = 0
        for i, app in enumerate(self.bench_apps):
            left = len(self.bench_apps) - i
            n = evidence_total - written if left == 1 else round(evidence_per_app * self.rng.uniform(0.5, 1.5))
            n = max(0, min(n, evidence_total - written))
            written += n
            runs = runs_by_app.get(app["id"], [])
            for k in range(n):
                evidence_id = self.copier.next_id(EvidenceFile)
                key = f"{self.rng.getrandbits(128):032x}"
                on_run = runs and k % 3 == 0
                purpose = "qt:execution" if on_run else self.rng.choice(("pit:criterion:pit-1", "qad:answer:4.5.1", ""))
                evidence.append(
                    (
                        evidence_id,
                        app["org"]["id"],
                        app["id"],
                        f"evidence/{key[:2]}/{key}.pdf",
                        f"evidence-{k + 1:03d}.pdf",
                        "pdf",
                        "application/pdf",
                        self.rng.randint(20_000, 4_000_000),
                        f"{self.rng.getrandbits(256):064x}",
                        app["org"]["user_id"],
                        self.when(300, 1),
                        purpose,
                    )
                )
                if on_run:
                    links.append((self.copier.next_id(link_model), self.rng.choice(runs), evidence_id))
        c = self.copier
        c.copy(
            TestExecution,
            [
                "id",
                "application_id",
                "case_id",
                "case_version_id",
                "status",
                "tester",
                "executed_at",
                "step_results",
                "notes",
                "review",
                "review_comment",
                "reviewed_by_id",
                "reviewed_at",
                "recorded_by_id",
                "recorded_at",
            ],
            executions,
        )
        del executions
        c.copy(
            EvidenceFile,
            [
                "id",
                "organisation_id",
                "application_id",
                "file",
                "original_name",
                "file_type",
                "content_type",
                "size",
                "sha256",
                "uploaded_by_id",
                "uploaded_at",
                "purpose",
            ],
            evidence,
        )
        c.copy(link_model, ["id", "testexecution_id", "evidencefile_id"], links)

    def targets_and_register(self) -> None:
        from portal.approvals.models import MeetingStatus, PabMeeting, PabTarget
        from portal.registry.models import RegisterEntry

        meetings = list(
            PabMeeting.objects.filter(status=MeetingStatus.SCHEDULED, date__gte=self.now.date()).order_by("date")[:12]
        )
        targets, entries = [], []
        for app in self.bench_apps:
            if meetings and app["has_pab"] and app["status"] in ("final_qad", "in_approval"):
                targets.append(
                    (
                        self.copier.next_id(PabTarget),
                        app["id"],
                        self.rng.choice(meetings).pk,
                        None,
                        True,
                        "",
                        "",
                        self.analyst_id,
                        self.when(60, 1),
                        None,
                    )
                )
            if app["qualified_at"] is not None and app["status"] in ("qualified", "in_service_activation", "active"):
                status = "active" if app["status"] == "active" else "qualified"
                entries.append(
                    (
                        self.copier.next_id(RegisterEntry),
                        app["id"],
                        app["org"]["id"],
                        app["org"]["name"],
                        app["mpid"],
                        app["role"].code,
                        app["role"].name,
                        "mhhs",
                        status,
                        "",
                        app["qualified_at"].date(),
                        app["qualified_at"],
                        self.analyst_id,
                        True,
                        None,
                        None,
                    )
                )
        if self.analyst_id is not None:
            self.copier.copy(
                PabTarget,
                [
                    "id",
                    "application_id",
                    "meeting_id",
                    "previous_id",
                    "is_current",
                    "reason",
                    "late_reason",
                    "set_by_id",
                    "set_at",
                    "superseded_at",
                ],
                targets,
            )
        self.copier.copy(
            RegisterEntry,
            [
                "id",
                "application_id",
                "organisation_id",
                "organisation_name",
                "mpid_code",
                "market_role_code",
                "market_role_name",
                "register",
                "status",
                "conditions",
                "effective_date",
                "recorded_at",
                "recorded_by_id",
                "is_current",
                "superseded_at",
                "previous_id",
            ],
            entries,
        )

    def audit_events(self) -> None:
        """Continue the chain from its head: each event hashed with the product's own digest."""
        from django.db import transaction

        from portal.audit.models import AuditChainHead, AuditEvent
        from portal.audit.services import CHAIN_COLUMNS, GENESIS_HASH, event_digest

        with transaction.atomic():
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
            sequence, prev = head.last_sequence, head.last_hash or GENESIS_HASH
            count = self.want["audit_events"] - sequence
            apps = self.bench_apps
            start = self.now - dt.timedelta(days=700)
            step = (700 * 86400) / max(count, 1)

            def rows() -> Iterable[tuple[Any, ...]]:
                nonlocal sequence, prev
                for n in range(count):
                    sequence += 1
                    app = apps[self.rng.randrange(len(apps))]
                    action, target_type = AUDIT_ACTIONS[self.rng.randrange(len(AUDIT_ACTIONS))]
                    occurred = (start + dt.timedelta(seconds=int(n * step))).replace(microsecond=0)
                    actor_id = app["org"]["user_id"]
                    label = f"member{app['org']['name'][13:18]}@bench{app['org']['name'][13:18]}.example"
                    target_id = str(self.rng.randint(1, 10_000_000))
                    before = {"state": "in_progress"} if action.startswith("task.") else {}
                    after = {"state": "submitted", "comment": "Sent for review."} if action.startswith("task.") else {}
                    summary = f"{action} on QA-{app['id']:05d}"
                    digest = event_digest(
                        sequence=sequence,
                        occurred_at=occurred.isoformat(),
                        actor_id=actor_id,
                        actor_label=label,
                        action=action,
                        target_type=target_type,
                        target_id=target_id,
                        organisation_id=app["org"]["id"],
                        application_id=app["id"],
                        summary=summary,
                        before=before,
                        after=after,
                        prev_hash=prev,
                    )
                    yield (
                        sequence,
                        sequence,
                        occurred,
                        actor_id,
                        label,
                        action,
                        target_type,
                        target_id,
                        app["org"]["id"],
                        app["id"],
                        summary,
                        j(before),
                        j(after),
                        None,  # client_address and request_id: none, as for events a worker writes,
                        "",  # so they are left out of the hash
                        prev,
                        digest,
                    )
                    prev = digest

            first_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            if first_id >= sequence + 1:
                raise RuntimeError("audit event ids ahead of their sequence numbers: start from a fresh database")
            self.copier.copy(AuditEvent, ["id", *CHAIN_COLUMNS], rows())
            self.copier.reset_sequences([AuditEvent])
            AuditChainHead.objects.filter(id=1).update(last_sequence=sequence, last_hash=prev)


def generate(*, scale: float, database: str, seed: int, force: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    existed = database_exists(database)
    if force and existed:
        database_create(database, drop=True)
    else:
        database_create(database)
    django_setup(database)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    if is_complete(scale):
        print(f"{database}: the data set at scale {scale:g} is already complete.")
        return {"database": database, "scale": scale, "generated": False}
    from portal.participants.models import Organisation

    if Organisation.objects.exists():
        print(f"{database}: an incomplete data set: made again from scratch.")
        connection.close()
        database_create(database, drop=True)
        call_command("migrate", interactive=False, verbosity=0)
    print(f"{database}: migrated in {time.monotonic() - started:.0f} s; loading the demo data set", flush=True)
    from portal.demo.services import demo_data_load

    step = time.monotonic()
    demo_data_load()
    print(f"  demo data set: {time.monotonic() - step:.1f} s", flush=True)
    generator = Generator(scale, seed)
    generator.run()
    assert is_complete(scale), "the data set is not complete after generating it"
    elapsed = time.monotonic() - started
    print(f"{database}: scale {scale:g} generated in {elapsed:.0f} s", flush=True)
    return {"database": database, "scale": scale, "generated": True, "seconds": round(elapsed), **generator.timings}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10.0, help="1 = national scale (default 10)")
    parser.add_argument("--database", default="portal_bench")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--force", action="store_true", help="drop the database and generate again")
    args = parser.parse_args(argv)
    generate(scale=args.scale, database=args.database, seed=args.seed, force=args.force)


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
