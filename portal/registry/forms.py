from typing import Any

from django import forms


class RegisterFilterForm(forms.Form):
    """The filters of the register pages. Values that are not offered are ignored, not refused."""

    search = forms.CharField(label="Organisation or MPID", required=False, max_length=100, strip=True)
    role = forms.ChoiceField(label="Market role", required=False)
    status = forms.ChoiceField(label="Status", required=False)

    def __init__(
        self, *args: Any, roles: list[tuple[str, str]], statuses: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        role = self.fields["role"]
        status = self.fields["status"]
        assert isinstance(role, forms.ChoiceField) and isinstance(status, forms.ChoiceField)
        role.choices = [("", "Any market role"), *((code, f"{code}: {name}") for code, name in roles)]
        status.choices = [("", "Any status"), *statuses]

    def filters(self) -> dict[str, str]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("search", "role", "status") if data.get(name)}
