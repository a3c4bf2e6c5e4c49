"""The preparation helpers fit the loop that walks an application forward: called just before each
step, they let the generic submit and accept of PIT and DIP onboarding pass their guards."""

import pytest

from portal.dip.models import DipId
from portal.dip.testing_support import dip_prepare_step
from portal.qualification import journey
from portal.testing.models import RttmUpload
from portal.testing.testing_support import pit_prepare_step

pytestmark = pytest.mark.django_db


def test_walking_past_pit_and_dip_onboarding_with_the_preparation_helpers(advance, make_application):
    # The apps register their helpers with the journey (AppConfig.ready), so the walk needs no wiring.
    assert pit_prepare_step in journey._preparers
    assert dip_prepare_step in journey._preparers
    application = advance(make_application(route="sit"), stop_before="initial_qad")
    states = dict(application.tasks.values_list("code", "state"))
    assert states["pit"] == "completed"
    assert states["dip_onboarding"] == "completed"
    assert states["initial_qad"] == "not_started"
    assert RttmUpload.objects.filter(application=application).count() == 2
    assert DipId.objects.get(mpid=application.mpid).is_confirmed


def test_without_them_the_generic_walk_stops_at_the_guards(monkeypatch, advance, make_application):
    from portal.core.errors import InvalidTransition

    monkeypatch.setattr(journey, "_preparers", [])
    with pytest.raises(InvalidTransition, match="PIT cannot be submitted yet"):
        advance(make_application(route="sit"), stop_before="initial_qad")
