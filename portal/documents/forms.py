"""Parsing of the QAD pages' forms. Forms only check shape (present, not too long, a number); every
rule of the QAD is checked by the services, whose refusals the views show in the same error summary."""

from typing import Any

from django import forms

from portal.documents.services import MAX_ANSWER_LENGTH, MAX_MESSAGE_LENGTH
from portal.documents.template_data import MAX_FILE_BYTES


class AnswerForm(forms.Form):
    text = forms.CharField(
        label="Your answer",
        required=False,
        max_length=MAX_ANSWER_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"max_length": f"The answer must be {MAX_ANSWER_LENGTH} characters or fewer"},
    )
    remove_evidence = forms.TypedMultipleChoiceField(
        label="Remove evidence", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, evidence_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["remove_evidence"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = evidence_choices


class MessageForm(forms.Form):
    text = forms.CharField(
        label="Message",
        required=False,
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": f"The text must be {MAX_MESSAGE_LENGTH} characters or fewer"},
    )


class SubmitForm(forms.Form):
    comment = forms.CharField(
        label="Comment for the reviewers (optional)",
        required=False,
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"The comment must be {MAX_MESSAGE_LENGTH} characters or fewer"},
    )


class SignForm(forms.Form):
    declaration_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    confirm = forms.BooleanField(
        label="I have read the declaration and I make it",
        error_messages={"required": "Confirm that you have read the declaration and that you make it"},
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password"},
    )
    otp_code = forms.CharField(
        label="Code from your authenticator app",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why the Final QAD is being reopened",
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter why the Final QAD is being reopened",
            "max_length": f"The reason must be {MAX_MESSAGE_LENGTH} characters or fewer",
        },
    )


class DelegateForm(forms.Form):
    user = forms.TypedChoiceField(
        label="Member of the organisation",
        coerce=int,
        error_messages={"required": "Select a member", "invalid_choice": "Select a member from the list"},
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Select a member"), *members]


class CompareForm(forms.Form):
    old = forms.IntegerField(label="Earlier version", min_value=1, max_value=100000)
    new = forms.IntegerField(label="Later version", min_value=1, max_value=100000)


class TemplateUploadForm(forms.Form):
    file = forms.FileField(
        label="QAD template file (JSON)",
        help_text=f"A template file in the portal's format, at most {MAX_FILE_BYTES // (1024 * 1024)} MB.",
    )
    activate = forms.BooleanField(label="Make it the active template at once", required=False, initial=True)
