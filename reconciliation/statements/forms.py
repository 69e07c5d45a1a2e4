"""Forms of the bank statement pages: the list's filters and the upload."""

from __future__ import annotations

from django import forms

from reconciliation.statements.selectors import STATEMENT_DEFAULT_SORT, STATEMENT_SORTS, statement_accounts
from reconciliation.statements.services import file_size, max_bytes
from revops.models import LegalEntity
from revops.web.forms import FilterForm

BALANCED_CHOICES = [
    ("", "Any"),
    ("yes", "Balances"),
    ("no", "Does not balance"),
    ("unchecked", "No balances reported"),
]


class StatementFilterForm(FilterForm):
    sorts, default_sort = STATEMENT_SORTS, STATEMENT_DEFAULT_SORT
    account = forms.ChoiceField(required=False, choices=[("", "Any")])
    balanced = forms.ChoiceField(required=False, choices=BALANCED_CHOICES, label="Balance check")
    file = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "Any"), *((a, a) for a in statement_accounts())]

    def selector_kwargs(self) -> dict:
        data = self.filters()
        return {
            "q": data["q"],
            "account": data.get("account", ""),
            "balanced": data.get("balanced", ""),
            "file_id": data.get("file"),
            "sort": data["sort"],
        }


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Statement file",
        error_messages={
            "required": "Choose the statement file the bank sent.",
            "empty": "The file is empty.",
        },
    )
    legal_entity = forms.ModelChoiceField(
        queryset=LegalEntity.objects.order_by("code"),
        required=False,
        empty_label="Not said",
        label="Legal entity",
        help_text="The company that holds these accounts, if you know it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            f"camt.052, camt.053 or camt.054 XML, BAI2, or MT940/MT942; at most {file_size(max_bytes())}. "
            "The format is read from the content."
        )
