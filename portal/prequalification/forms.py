"""Parsing of the PQS web forms. Forms check only shape (a real date, a choice that was offered, not
too long); the rules of the PQS are the services', whose refusals the views show in the same error
summary, each linked to its field."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from portal.documents.models import EvidenceFile
from portal.prequalification.models import (
    ItemDecision,
    PqsSubmission,
    RelianceProposalItem,
    RelianceScope,
    TestingProvider,
    Wave,
)
from portal.prequalification.rules import MAX_SHORT_TEXT, MAX_TEXT
from portal.prequalification.services import ItemFields, PqsFields

# --- GOV.UK date input: day, month and year boxes -----------------------------------------------

DATE_PARTS = ("day", "month", "year")


class DateInputWidget(forms.MultiWidget):
    """Three boxes named `<name>_day`, `<name>_month` and `<name>_year`."""

    def __init__(self) -> None:
        super().__init__(widgets={part: forms.TextInput() for part in DATE_PARTS})

    def decompress(self, value: Any) -> list[str | None]:
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]


class DateInputField(forms.MultiValueField):
    """A date entered as day, month and year, with the GOV.UK messages for each way it can be wrong."""

    widget = DateInputWidget

    def __init__(self, *, label: str, name_in_message: str, hint: str = "", **kwargs: Any) -> None:
        self.name_in_message = name_in_message
        parts = tuple(forms.CharField(required=False, max_length=10) for _ in DATE_PARTS)
        super().__init__(fields=parts, require_all_fields=False, required=False, label=label, help_text=hint, **kwargs)

    def compress(self, data_list: Sequence[str]) -> date | None:
        if not data_list:
            return None
        values = [str(v or "").strip() for v in data_list]
        if not any(values):
            return None
        missing = [part for part, value in zip(DATE_PARTS, values, strict=True) if not value]
        if missing:
            raise ValidationError(f"{self.name_in_message} must include a {' and a '.join(missing)}")
        day, month, year = values
        if not all(v.isdigit() for v in values):
            raise ValidationError(f"{self.name_in_message} must be a real date")
        if len(year) != 4:
            raise ValidationError("Year must include 4 numbers")
        try:
            return date(int(year), int(month), int(day))
        except ValueError as exc:
            raise ValidationError(f"{self.name_in_message} must be a real date") from exc


@dataclass(frozen=True)
class DateInputView:
    """What the date-input template needs for one field."""

    name: str
    label: str
    hint: str
    day: str
    month: str
    year: str
    error: str


def _text(label: str, *, limit: int = MAX_TEXT, textarea: bool = True, hint: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=limit,
        help_text=hint,
        widget=forms.Textarea if textarea else forms.TextInput,
        error_messages={"max_length": f"{label} must be {limit} characters or fewer"},
    )


# --- the PQS ---------------------------------------------------------------------------------------


class PqsForm(forms.Form):
    preferred_wave = forms.ChoiceField(
        label="Which Qualification Testing wave would you prefer?",
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select a wave from the list"},
    )
    pit_approach = _text(
        "PIT approach",
        hint="How you will run Pre-Integration Testing: functional, migration, non-functional and operational "
        "testing, environments, and who tests.",
    )
    pit_start_date = DateInputField(
        label="When will PIT start?", name_in_message="The PIT start date", hint="For example, 27 3 2026"
    )
    pit_completion_date = DateInputField(
        label="When will PIT be completed?", name_in_message="The PIT completion date", hint="For example, 31 7 2026"
    )
    qt_approach = _text(
        "QT approach",
        hint="How you will run Qualification Testing: test data, the scenarios and cases you will run, and "
        "your schedule.",
    )
    qt_start_date = DateInputField(
        label="When will QT start?", name_in_message="The QT start date", hint="For example, 1 9 2026"
    )
    qt_completion_date = DateInputField(
        label="When will QT be completed?", name_in_message="The QT completion date", hint="For example, 30 11 2026"
    )
    target_migration_date = DateInputField(
        label="Target migration date",
        name_in_message="The target migration date",
        hint="When you plan to start migrating MPANs to MHHS. It must be after QT is completed.",
    )
    supplier_hub_relationships = _text(
        "Supplier-hub relationships (optional)",
        hint="For migration planning: the suppliers or agents you work with, one per line, with their MPID and role.",
    )

    DATE_FIELDS = (
        "pit_start_date",
        "pit_completion_date",
        "qt_start_date",
        "qt_completion_date",
        "target_migration_date",
    )

    def __init__(self, *args: Any, waves: list[Wave], pqs: PqsSubmission | None = None, **kwargs: Any) -> None:
        if pqs is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "preferred_wave": pqs.preferred_wave.code if pqs.preferred_wave else "",
                "pit_approach": pqs.pit_approach,
                "pit_start_date": pqs.pit_start_date,
                "pit_completion_date": pqs.pit_completion_date,
                "qt_approach": pqs.qt_approach,
                "qt_start_date": pqs.qt_start_date,
                "qt_completion_date": pqs.qt_completion_date,
                "target_migration_date": pqs.target_migration_date,
                "supplier_hub_relationships": pqs.supplier_hub_relationships,
            }
        super().__init__(*args, **kwargs)
        choices = [(w.code, w.name) for w in waves]
        # A wave chosen earlier and since withdrawn still shows, so the participant sees what to change.
        if pqs is not None and pqs.preferred_wave and pqs.preferred_wave.code not in {c for c, _ in choices}:
            choices.append((pqs.preferred_wave.code, f"{pqs.preferred_wave.name} (no longer offered)"))
        wave_field = self.fields["preferred_wave"]
        assert isinstance(wave_field, forms.ChoiceField)
        wave_field.choices = choices
        self.wave_hints = {w.code: w.description for w in waves}

    def date_input(self, name: str, error: str = "") -> DateInputView:
        field = self.fields[name]
        assert isinstance(field, DateInputField)
        value = self[name].value()
        if isinstance(value, date):
            parts = [str(value.day), str(value.month), str(value.year)]
        elif isinstance(value, list | tuple):
            parts = [str(v or "") for v in value]
        else:
            parts = ["", "", ""]
        return DateInputView(
            name=name,
            label=str(field.label),
            hint=str(field.help_text),
            day=parts[0],
            month=parts[1],
            year=parts[2],
            error=error,
        )

    def to_fields(self) -> PqsFields:
        data = self.cleaned_data
        return PqsFields(
            preferred_wave=data.get("preferred_wave") or None,
            pit_approach=data.get("pit_approach", ""),
            pit_start_date=data.get("pit_start_date"),
            pit_completion_date=data.get("pit_completion_date"),
            qt_approach=data.get("qt_approach", ""),
            qt_start_date=data.get("qt_start_date"),
            qt_completion_date=data.get("qt_completion_date"),
            target_migration_date=data.get("target_migration_date"),
            supplier_hub_relationships=data.get("supplier_hub_relationships", ""),
        )


# --- proposal items --------------------------------------------------------------------------------

RELIED_ON_CHOICES = [
    ("yes", "Yes, we rely on this testing"),
    ("no", "No, we explicitly do not rely on it: we will test it ourselves in QT"),
]


class ItemForm(forms.Form):
    title = _text("What does the testing cover?", limit=MAX_SHORT_TEXT, textarea=False)
    relied_on = forms.ChoiceField(
        label="Do you rely on this testing?",
        required=False,
        choices=RELIED_ON_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select whether you rely on this testing"},
    )
    scope = forms.ChoiceField(
        label="Is it about test scenarios or test cases?",
        required=False,
        choices=RelianceScope.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select test scenarios or test cases"},
    )
    identifiers = _text(
        "Test scenario or test case identifiers",
        hint="Separate them with commas, spaces or new lines.",
    )
    provider_kind = forms.ChoiceField(
        label="Whose testing is it?",
        required=False,
        choices=[("", "Not applicable"), *TestingProvider.choices],
        error_messages={"invalid_choice": "Select whose testing it is from the list"},
    )
    provider_name = _text(
        "Name of the vendor or party",
        limit=MAX_SHORT_TEXT,
        textarea=False,
        hint="Needed when you rely on the testing.",
    )
    artefacts = _text(
        "Artefacts that evidence the testing (optional)",
        hint="For example a vendor's test completion report, or the reliance artefacts you will provide.",
    )
    rationale = _text(
        "Rationale",
        hint="Why the testing can be relied on, or why it is not relied on.",
    )
    evidence_ids = forms.MultipleChoiceField(
        label="Evidence files already uploaded",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select evidence files from the list"},
    )

    def __init__(
        self,
        *args: Any,
        evidence_choices: list[EvidenceFile],
        item: RelianceProposalItem | None = None,
        **kwargs: Any,
    ) -> None:
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": item.title,
                "relied_on": "yes" if item.relied_on else "no",
                "scope": item.scope,
                "identifiers": "\n".join(item.identifiers),
                "provider_kind": item.provider_kind,
                "provider_name": item.provider_name,
                "artefacts": item.artefacts,
                "rationale": item.rationale,
                "evidence_ids": [str(e.pk) for e in item.evidence.all()],
            }
        super().__init__(*args, **kwargs)
        offered = {e.pk: e for e in evidence_choices}
        if item is not None:
            for evidence in item.evidence.all():
                offered.setdefault(evidence.pk, evidence)
        field = self.fields["evidence_ids"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(pk), e.original_name) for pk, e in offered.items()]
        self.has_evidence_choices = bool(offered)

    def to_fields(self) -> ItemFields:
        data = self.cleaned_data
        relied_on = {"yes": True, "no": False}.get(data.get("relied_on") or "")
        return ItemFields(
            title=data.get("title", ""),
            scope=data.get("scope", ""),
            identifiers=data.get("identifiers", ""),
            relied_on=relied_on,
            rationale=data.get("rationale", ""),
            provider_kind=data.get("provider_kind", ""),
            provider_name=data.get("provider_name", ""),
            artefacts=data.get("artefacts", ""),
            evidence_ids=[int(pk) for pk in data.get("evidence_ids", [])],
        )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        required=False,
        choices=[(d.value, d.label) for d in ItemDecision if d != ItemDecision.PENDING],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select accept, reject or request changes"},
    )
    reason = _text("Reason", hint="Needed when you reject the item or ask for changes. The participant sees it.")


class SubmitForm(forms.Form):
    comment = _text("Comment for the Code Bodies (optional)")
