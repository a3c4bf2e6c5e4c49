"""Parsing of the DIP onboarding page's forms. They check shape only; every rule of DIP onboarding is
checked by the services, whose refusals the page shows in the same error summary."""

from django import forms

from portal.dip.models import DipEnvironment
from portal.dip.services import MAX_NOTE_LENGTH


class StepForm(forms.Form):
    done = forms.ChoiceField(
        choices=[("yes", "Done"), ("no", "Not done")],
        error_messages={"required": "Choose done or not done", "invalid_choice": "Choose done or not done"},
    )
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        error_messages={"max_length": f"The note must be {MAX_NOTE_LENGTH} characters or fewer"},
    )

    @property
    def is_done(self) -> bool:
        return self.cleaned_data["done"] == "yes"


class DipIdForm(forms.Form):
    environment = forms.ChoiceField(
        choices=DipEnvironment.choices,
        error_messages={
            "required": "Choose the DIP environment",
            "invalid_choice": "Choose pre-production or production",
        },
    )
    # The format (10 digits) is the service's rule, so that the page and the API give the same message.
    value = forms.CharField(
        required=False,
        max_length=20,
        strip=True,
        error_messages={"max_length": "A DIP ID is exactly 10 digits, like 1009012345"},
    )
