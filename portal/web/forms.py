"""Parsing of the web forms. Forms only check shape (present, one of the offered choices, not too
long); every rule of the process is checked by the services, whose refusals the views show in the
same error summary."""

from typing import Any

from django import forms

from portal.accounts.services import MAX_TOKEN_NAME_LENGTH
from portal.qualification.selectors import CreateChoices
from portal.qualification.services import MAX_COMMENT_LENGTH
from portal.qualification.workflow import ApplicationStatus


def _choice(label: str, *, required: str, invalid: str, **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, error_messages={"required": required, "invalid_choice": invalid}, **kwargs)


class ApplicationCreateForm(forms.Form):
    organisation = _choice(
        "Organisation", required="Select the organisation", invalid="Select an organisation from the list"
    )
    mpid = _choice("MPID", required="Select the MPID", invalid="Select an MPID from the list")
    market_role = _choice(
        "Market role", required="Select the market role", invalid="Select a market role from the list"
    )
    route = _choice(
        "Qualification route", required="Select the qualification route", invalid="Select a route from the list"
    )

    def __init__(self, *args: Any, choices: CreateChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        self._choice_field("organisation").choices = [(str(o.pk), o.name) for o in choices.organisations]
        self._choice_field("mpid").choices = [
            (m.code, f"{m.code} ({m.organisation.name})" if len(choices.organisations) > 1 else m.code)
            for m in choices.mpids
        ]
        self._choice_field("market_role").choices = [(r.code, f"{r.name} ({r.code})") for r in choices.market_roles]
        self._choice_field("route").choices = [(r.code, r.name) for r in choices.routes]
        if len(choices.organisations) == 1 and not self.is_bound:
            self.initial.setdefault("organisation", str(choices.organisations[0].pk))

    def _choice_field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea,
        error_messages={
            "required": "Enter the reason",
            "max_length": f"The reason must be {MAX_COMMENT_LENGTH} characters or fewer",
        },
    )


class ApplicationFilterForm(forms.Form):
    """The filters of the applications list. Values that are not offered are ignored, not refused."""

    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *ApplicationStatus.choices])
    route = forms.ChoiceField(label="Route", required=False)
    q = forms.CharField(label="Search", required=False, max_length=100)

    def __init__(self, *args: Any, routes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        route = self.fields["route"]
        assert isinstance(route, forms.ChoiceField)
        route.choices = [("", "Any route"), *routes]

    def filters(self) -> dict[str, str]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("status", "route", "q") if data.get(name)}


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=MAX_TOKEN_NAME_LENGTH,
        strip=True,
        error_messages={
            "required": "Enter a name for the token, such as the system that will use it",
            "max_length": f"The name must be {MAX_TOKEN_NAME_LENGTH} characters or fewer",
        },
    )
