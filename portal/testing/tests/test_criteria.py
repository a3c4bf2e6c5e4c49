"""The PIT exit criteria are reference data: shipped by a data migration, matched to an application
by its route and role group, and edited in the admin with every change audited."""

from typing import cast

import pytest
from django.test import Client
from django.urls import reverse

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.factories import UserFactory
from portal.participants.models import RoleGroup
from portal.qualification.models import Route
from portal.testing.models import PitCriterion
from portal.testing.pit_criteria import CRITERIA, RELIANCE_ROUTES, pit_criteria_load
from portal.testing.selectors import pit_criteria_for

pytestmark = pytest.mark.django_db


def codes(application):
    return [c.code for c in pit_criteria_for(application)]


def test_the_shipped_criteria_are_loaded_by_the_migration():
    assert set(PitCriterion.objects.values_list("code", flat=True)) == {spec.code for spec in CRITERIA}
    dbt1 = PitCriterion.objects.get(code="pit_dbt1_complete")
    assert dbt1.is_required and dbt1.evidence_required and dbt1.is_active
    assert not PitCriterion.objects.get(code="qt_readiness_contacts").evidence_required
    assert not PitCriterion.objects.get(code="reliance_artefacts_available").is_required


def test_criteria_match_the_route_and_the_role_group(make_application):
    supplier_sit = make_application(route="sit")
    data_service = make_application(route="sit", market_role="ADS")
    supplier_non_sit = make_application(route="non_sit_supplier_agent", market_role="MEM")

    assert "settlement_volume_tests_complete" not in codes(supplier_sit)
    assert "settlement_volume_tests_complete" in codes(data_service)
    # Placing reliance is for the routes with a placing-reliance proposal, not SIT.
    assert "reliance_artefacts_available" not in codes(supplier_sit)
    assert "reliance_artefacts_available" in codes(supplier_non_sit)
    assert codes(supplier_sit)[0] == "pit_approach"
    assert "pit_exit_report" in codes(supplier_sit)


def test_inactive_criteria_are_not_asked_for(make_application):
    application = make_application(route="sit")
    PitCriterion.objects.filter(code="regression_tests_complete").update(is_active=False)
    assert "regression_tests_complete" not in codes(application)


def test_loading_again_keeps_an_administrators_edits_and_reset_restores_them():
    PitCriterion.objects.filter(code="pit_dbt1_complete").update(title="Edited")
    PitCriterion.objects.filter(code="pit_exit_report").delete()
    assert pit_criteria_load() == 1
    assert PitCriterion.objects.get(code="pit_dbt1_complete").title == "Edited"
    pit_criteria_load(reset=True)
    assert PitCriterion.objects.get(code="pit_dbt1_complete").title == "PIT DBT1 completed"
    assert set(
        PitCriterion.objects.get(code="settlement_volume_tests_complete").role_groups.values_list("code", flat=True)
    ) == {"data_service"}


def test_a_criterion_whose_routes_are_all_gone_is_made_inactive_not_widened():
    PitCriterion.objects.filter(code="reliance_artefacts_available").delete()
    for route in Route.objects.filter(code__in=RELIANCE_ROUTES):
        route.code = f"old_{route.code}"
        route.save(update_fields=["code"])
    pit_criteria_load()
    criterion = PitCriterion.objects.get(code="reliance_artefacts_available")
    assert criterion.routes.count() == 0
    assert not criterion.is_active


def test_an_administrator_edits_criteria_in_the_admin_and_it_is_audited(client: Client):
    admin_user = cast(User, UserFactory(email="root@portal.test", is_staff=True, is_superuser=True))
    client.force_login(admin_user)
    criterion = PitCriterion.objects.get(code="defects_triaged")
    url = reverse("admin:testing_pitcriterion_change", args=[criterion.pk])
    assert client.get(url).status_code == 200
    data = {
        "code": criterion.code,
        "title": "No open severity 1 or 2 defects",
        "guidance": criterion.guidance,
        "order": criterion.order,
        "is_required": "on",
        "evidence_required": "on",
        "is_active": "on",
        "role_groups": [RoleGroup.objects.get(code="supplier").pk],
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content
    criterion.refresh_from_db()
    assert criterion.title == "No open severity 1 or 2 defects"
    event = AuditEvent.objects.get(action="admin.pitcriterion.change")
    assert event.before["title"] == "All defects triaged, with no open severity 1 defect"
    assert event.after["role_groups"] == ["supplier"]
    assert client.get(reverse("admin:testing_pitcriterionresult_changelist")).status_code == 200
    assert client.get(reverse("admin:testing_rttmupload_changelist")).status_code == 200
    assert client.get(reverse("admin:testing_pitcriterionresult_add")).status_code == 403
