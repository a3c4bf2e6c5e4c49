from collections.abc import Callable
from typing import Any, cast

import pytest
from django.contrib.auth.models import Group
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.factories import UserFactory
from portal.notifications.models import Notification
from portal.participants.models import ApprovalBody, MarketRole, Organisation, RoleGroup
from portal.qualification.admin import TaskDefinitionForm, dependency_cycle
from portal.qualification.models import Application, Route, Task
from portal.qualification.services import application_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client: Client) -> Client:
    user = cast(User, UserFactory(email="root@portal.test", is_staff=True, is_superuser=True))
    client.force_login(user)
    return client


def _url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize(
    "model",
    [AuditEvent, Notification, Application, Task],
    ids=lambda m: m.__name__,
)
def test_records_written_by_the_services_are_read_only_in_the_admin(
    superuser_client: Client, model: type[Model], member: User, org: Organisation, staff: Callable[[Role], User]
) -> None:
    staff(Role.ELEXON_ANALYST)  # someone to be told about the new application
    application_create(
        actor=member,
        organisation_id=org.pk,
        mpid_code=org.mpids.get().code,
        market_role_code="SUP",
        route_code="non_sit_supplier_agent",
    )
    obj = model._default_manager.first()
    assert obj is not None
    events_before = set(AuditEvent.objects.values_list("pk", flat=True))

    assert superuser_client.get(_url(model, "change", obj.pk)).status_code == 200  # looking is allowed
    assert superuser_client.post(_url(model, "change", obj.pk), {}).status_code == 403
    assert superuser_client.get(_url(model, "add")).status_code == 403
    assert superuser_client.get(_url(model, "delete", obj.pk)).status_code == 403
    assert superuser_client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    bulk = superuser_client.post(
        _url(model, "changelist"), {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )
    assert bulk.status_code == 200  # the action is not offered: nothing happens

    assert model._default_manager.filter(pk=obj.pk).exists()
    # Nothing was changed: the only new events are the four refusals, and the chain still verifies.
    added = AuditEvent.objects.exclude(pk__in=events_before)
    assert sorted(added.values_list("action", flat=True)) == ["authz.denied"] * 4
    assert audit_verify().ok


def _inline_data(prefix: str, rows: list[dict[str, Any]], initial: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": len(rows),
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{key}": value for key, value in row.items() if value is not None})
    return data


def test_an_administrator_edits_the_approval_matrix_and_the_change_is_audited(
    superuser_client: Client, member: User, org: Organisation
) -> None:
    group = RoleGroup.objects.get(code="data_service")
    requirements = list(group.approval_requirements.all())
    market_roles = list(group.market_roles.all())
    data = {"code": group.code, "name": group.name, "order": group.order}
    data |= _inline_data(
        "approval_requirements",
        [
            {"id": r.pk, "role_group": group.pk, "body": r.body, "DELETE": "on" if r.body == "bsc_pab" else None}
            for r in requirements
        ],
        len(requirements),
    )
    data |= _inline_data(
        "market_roles",
        [
            {"id": m.pk, "role_group": group.pk, "code": m.code, "name": m.name, "is_active": "on", "order": m.order}
            for m in market_roles
        ],
        len(market_roles),
    )

    response = superuser_client.post(_url(RoleGroup, "change", group.pk), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(group.approval_requirements.values_list("body", flat=True)) == {ApprovalBody.DIP_MANAGER}
    event = AuditEvent.objects.get(action="admin.rolegroup.change")
    assert event.actor_label == "root@portal.test"
    assert "bsc_pab" in event.before["approval_bodies"] and "bsc_pab" not in event.after["approval_bodies"]
    assert audit_verify().ok
    # A data service registered from now on needs no BSC PAB approval.
    application = application_create(
        actor=member,
        organisation_id=org.pk,
        mpid_code=org.mpids.get().code,
        market_role_code="ADS",
        route_code="non_sit_supplier_agent",
    )
    assert not application.tasks.filter(code="approval_bsc_pab").exists()


def test_an_administrator_adds_a_user_whose_email_is_the_login(superuser_client: Client) -> None:
    response = superuser_client.post(
        _url(User, "add"),
        {
            "email": "New.Analyst@Elexon.example",
            "full_name": "New Analyst",
            "job_title": "Qualification Analyst",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email__iexact="new.analyst@elexon.example")
    assert user.username == user.email.lower()
    assert user.check_password("a-long-enough-passphrase")
    assert AuditEvent.objects.filter(action="admin.user.create", target_id=str(user.pk)).exists()


def test_the_route_admin_refuses_tasks_that_wait_for_each_other() -> None:
    assert dependency_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert dependency_cycle({"a": [], "b": ["a"], "c": ["a", "b"]}) == []


def test_a_task_definition_needs_the_roles_and_approval_body_its_kind_needs() -> None:
    route = Route.objects.get(code="sit")
    form = TaskDefinitionForm(
        data={
            "order": 5,
            "code": "extra_approval",
            "title": "Extra approval",
            "kind": "approval",
            "stage": "approval",
            "depends_on": "final_qad, final_qad",
            "actor_roles": [],
            "assurer_roles": [],
        },
        instance=route.task_definitions.model(route=route),
    )
    assert not form.is_valid()
    assert "approval_body" in form.errors
    assert "assurer_roles" in form.errors and "actor_roles" in form.errors
    assert form.cleaned_data["depends_on"] == ["final_qad"]


def _post_data(response: Any) -> dict[str, Any]:
    """What the browser would send back for an admin change form left as it is."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data |= {f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()}
        forms += list(formset.forms)
    for form in forms:
        for name in form.fields:
            bound = form[name]
            if bound.field.disabled:
                continue
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value
    return data


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (Route, {"code": "new_entrant_ldso"}),
        (RoleGroup, {"code": "supplier"}),
        (MarketRole, {"code": "SDS"}),
        (Organisation, {"mpids__code": "NLEN"}),
        (User, {"email": "director@northern.test"}),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_saving_reference_data_unchanged_round_trips_and_is_audited(
    superuser_client: Client,
    model: type[Model],
    lookup: dict[str, str],
    member: User,
    director: User,
) -> None:
    director.groups.add(Group.objects.get(name=Role.PAB_MEMBER.value))  # a user with a group and a membership
    obj = model._default_manager.get(**lookup)
    url = _url(model, "change", obj.pk)
    events = AuditEvent.objects.count()

    response = superuser_client.post(url, _post_data(superuser_client.get(url)))

    assert response.status_code == 302, response.context["errors"] if response.context else response
    event = AuditEvent.objects.order_by("-sequence").first()
    assert AuditEvent.objects.count() == events + 1 and event is not None
    assert event.action == f"admin.{model._meta.model_name}.change"
    assert event.before == event.after
    assert audit_verify().ok


def test_the_route_admin_refuses_a_dependency_cycle_and_changes_nothing(superuser_client: Client) -> None:
    route = Route.objects.get(code="sit")
    url = _url(Route, "change", route.pk)
    data = _post_data(superuser_client.get(url))
    pit = next(k for k, v in data.items() if k.endswith("-code") and v == "pit")
    data[pit.replace("-code", "-depends_on")] = "initial_qad"  # and initial_qad waits for pit

    response = superuser_client.post(url, data)

    assert response.status_code == 200
    assert "wait for each other in a circle" in response.content.decode()
    assert route.task_definitions.get(code="pit").depends_on == []
    assert not AuditEvent.objects.filter(action="admin.route.change").exists()
