"""Parsing of the PIT page's forms. They check shape only (a choice made, text not too long); every
rule of PIT is checked by the services, whose refusals the page shows in the same error summary."""

from django import forms

from portal.testing.services import MAX_NOTE_LENGTH

MET_CHOICES = [("yes", "Met"), ("no", "Not met")]


def _note() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        error_messages={"max_length": f"The note must be {MAX_NOTE_LENGTH} characters or fewer"},
    )


class CriterionResultForm(forms.Form):
    met = forms.ChoiceField(
        choices=MET_CHOICES,
        error_messages={
            "required": "Select whether the criterion is met",
            "invalid_choice": "Select met or not met",
        },
    )
    note = _note()

    @property
    def is_met(self) -> bool:
        return self.cleaned_data["met"] == "yes"


class RttmUploadForm(forms.Form):
    note = _note()
