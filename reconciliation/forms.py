"""Forms of the reconciliation pages. Plain forms (not ModelForms): the
services validate and save, with the reason every change carries."""

from __future__ import annotations

from django import forms

from reconciliation.models import Kind, MatchDecision, MatchRule, Reconciliation
from revops.models import LegalEntity
from revops.web.forms import ChangeForm, reason_field


class ReconciliationForm(ChangeForm):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=Kind.choices, label="Compares")
    legal_entity = forms.ModelChoiceField(
        queryset=LegalEntity.objects.order_by("code"), required=False, empty_label="Every legal entity"
    )
    external_system = forms.CharField(
        max_length=64,
        required=False,
        label="Other system",
        help_text="The snapshot compared for ERP invoices or CRM deals (e.g. netsuite, hubspot); "
        "for gateway payments, the gateway (e.g. stripe), or empty for all.",
    )
    lookback_days = forms.IntegerField(min_value=1, max_value=3660, initial=90, label="Look back (days)")
    every_hours = forms.IntegerField(
        min_value=0, max_value=744, initial=24, label="Run every (hours)", help_text="0: only on demand."
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Switched on")
    reason = reason_field()

    FIELDS = ("name", "kind", "legal_entity", "external_system", "lookback_days", "every_hours", "enabled")

    @classmethod
    def initial_for(cls, recon: Reconciliation) -> dict:
        return {name: getattr(recon, name) for name in cls.FIELDS}

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class RuleForm(ChangeForm):
    position = forms.IntegerField(min_value=0, max_value=32767, help_text="Lower positions are tried first.")
    name = forms.CharField(max_length=100)
    method = forms.ChoiceField(choices=MatchRule.Method.choices)
    cardinality = forms.ChoiceField(choices=MatchRule.Cardinality.choices)
    action = forms.ChoiceField(choices=MatchRule.Action.choices)
    amount_tolerance = forms.DecimalField(
        min_value=0, max_digits=20, decimal_places=4, initial=0, label="Tolerance (amount)"
    )
    tolerance_percent = forms.DecimalField(
        min_value=0,
        max_value=100,
        max_digits=9,
        decimal_places=6,
        initial=0,
        label="Tolerance (%)",
        help_text="The larger of the two tolerances applies.",
    )
    date_window_days = forms.IntegerField(
        min_value=0,
        max_value=366,
        initial=0,
        label="Date window (days)",
        help_text="Required for amount + customer + date; for exact reference, 0 ignores dates.",
    )
    compare_tax = forms.BooleanField(required=False, label="Tax must agree too")
    compare_status = forms.BooleanField(required=False, label="Status must agree too")
    enabled = forms.BooleanField(required=False, initial=True, label="Switched on")
    reason = reason_field()

    FIELDS = (
        "position",
        "name",
        "method",
        "cardinality",
        "action",
        "amount_tolerance",
        "tolerance_percent",
        "date_window_days",
        "compare_tax",
        "compare_status",
        "enabled",
    )

    @classmethod
    def initial_for(cls, rule: MatchRule) -> dict:
        return {name: getattr(rule, name) for name in cls.FIELDS}

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class DecideForm(forms.Form):
    """Confirm or reject the suggested groups ticked (`ids`), or confirm the one
    whose own button was pressed (`confirm_group`)."""

    decision = forms.ChoiceField(
        required=False,
        choices=[(MatchDecision.Decision.CONFIRMED, "Confirm"), (MatchDecision.Decision.REJECTED, "Reject")],
    )
    confirm_group = forms.IntegerField(required=False, min_value=0)
    reason = forms.CharField(max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("confirm_group") is not None:
            data["decision"], data["groups"] = MatchDecision.Decision.CONFIRMED, [data["confirm_group"]]
            return data
        if not data.get("decision"):
            raise forms.ValidationError("Choose to confirm or to reject.")
        data["groups"] = self._ticked()
        return data

    def _ticked(self) -> list[int]:
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        try:
            groups = sorted({int(value) for value in raw if str(value).strip()})
        except ValueError:
            raise forms.ValidationError("A selected match is not a group number of this run.") from None
        if not groups:
            raise forms.ValidationError("Select at least one suggested match.")
        if len(groups) > 5_000:
            raise forms.ValidationError("Decide at most 5,000 matches at once.")
        return groups
