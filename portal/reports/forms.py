"""Parsing of the dashboards' filters and the search box. Forms check shape only; the selectors check
the values again (`pipeline_filters`, `search_query_clean`) and their refusals reach the same error
summary."""

from typing import Any

from django import forms

from portal.core.errors import InvalidInput
from portal.qualification.workflow import ApplicationStatus
from portal.reports.search import KIND_LABELS, MAX_QUERY_LENGTH, search_kind_clean, search_query_clean
from portal.reports.selectors import FilterChoices

MAX_FILTER_LENGTH = 100


def _choice(label: str, empty: str, choices: list[tuple[str, str]], message: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", empty), *choices],
        error_messages={"invalid_choice": message},
    )


class PipelineFilterForm(forms.Form):
    route = forms.ChoiceField(required=False)
    role_group = forms.ChoiceField(required=False)
    wave = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, choices: FilterChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["route"] = _choice("Route", "Any route", choices.routes, "Choose a route from the list")
        self.fields["role_group"] = _choice(
            "Role group", "Any role group", choices.role_groups, "Choose a role group from the list"
        )
        self.fields["wave"] = _choice("QT wave", "Any wave", choices.waves, "Choose a QT wave from the list")

    def values(self) -> dict[str, str]:
        """The filters chosen (after `is_valid()`): only those set."""
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("route", "role_group", "wave") if data.get(name)}


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        strip=False,
        # The limit is checked with its own message below; this only stops absurdly long input early.
        max_length=MAX_QUERY_LENGTH * 10,
        error_messages={"max_length": f"The search text must be {MAX_QUERY_LENGTH} characters or fewer."},
    )
    kind = forms.ChoiceField(
        label="Look in",
        required=False,
        choices=[("", "Everything"), *KIND_LABELS.items()],
        error_messages={"invalid_choice": "Choose what to search from the list"},
    )

    def clean_q(self) -> str:
        try:
            return search_query_clean(self.cleaned_data.get("q"))
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_kind(self) -> str:
        try:
            return search_kind_clean(self.cleaned_data.get("kind"))
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc


class ApplicationListFilterForm(forms.Form):
    """The filters of the applications list (`/applications/`), for its download: read as the list's page
    reads them (a value that is not offered is ignored), so the file holds what the page shows."""

    q = forms.CharField(required=False, max_length=MAX_FILTER_LENGTH)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ApplicationStatus.choices])
    route = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, routes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        route = self.fields["route"]
        assert isinstance(route, forms.ChoiceField)
        route.choices = [("", "Any route"), *routes]

    def values(self) -> dict[str, str]:
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("q", "status", "route") if data.get(name)}
