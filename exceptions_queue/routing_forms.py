"""Forms for routing rules and bulk actions. They check shapes; the services in
exceptions_queue.routing and exceptions_queue.bulk check the business rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from exceptions_queue.codes import ExceptionCode
from exceptions_queue.models import ExceptionItem, Priority, RoutingRule
from revops.models import LegalEntity
from revops.roles import ROLES
from revops.web.forms import ChangeForm, reason_field


def team_choices():
    """Teams are groups; the role groups (what people may do) are not teams (who owns what)."""
    return Group.objects.exclude(name__in=ROLES).order_by("name")


class RoutingRuleForm(ChangeForm):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(
        min_value=0, required=False, help_text="Lower numbers are tried first; blank puts the rule last"
    )
    enabled = forms.BooleanField(required=False, initial=True)
    codes = forms.MultipleChoiceField(
        choices=ExceptionCode.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any code",
    )
    legal_entity = forms.ModelChoiceField(
        LegalEntity.objects.order_by("name"), required=False, empty_label="Any"
    )
    connector_name = forms.CharField(
        max_length=100,
        required=False,
        help_text="Blank: any connector",
        widget=forms.TextInput(attrs={"list": "connector-names"}),
    )
    currency = forms.CharField(max_length=3, required=False, help_text="Needed with an amount range")
    amount_min = forms.DecimalField(max_digits=18, decimal_places=2, required=False, label="Amount from")
    amount_max = forms.DecimalField(max_digits=18, decimal_places=2, required=False, label="Amount up to")
    team = forms.ModelChoiceField(Group.objects.none(), empty_label=None, help_text="Owns the matching items")
    priority = forms.TypedChoiceField(
        choices=[("", "Follow the severity"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    sla_hours = forms.IntegerField(
        min_value=1, max_value=24 * 365, required=False, label="SLA (hours)", help_text="Blank: no due time"
    )
    reason = reason_field()

    CONDITIONS = (
        "enabled",
        "codes",
        "legal_entity",
        "connector_name",
        "currency",
        "amount_min",
        "amount_max",
    )

    def __init__(self, *args, default_rule: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = team_choices()
        self.connector_names = sorted(
            set(
                ExceptionItem.objects.exclude(connector_name="")
                .values_list("connector_name", flat=True)
                .distinct()[:200]
            )
        )
        if default_rule:
            # The default rule matches everything: only who, how urgent and how fast.
            for name in self.CONDITIONS + ("position",):
                del self.fields[name]

    def rule_values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("reason")
        if "currency" in data:
            data["currency"] = data["currency"].strip().upper()
        return data

    @staticmethod
    def initial_for(rule: RoutingRule) -> dict:
        return {
            "name": rule.name,
            "position": rule.position,
            "enabled": rule.enabled,
            "codes": rule.codes,
            "legal_entity": rule.legal_entity_id,
            "connector_name": rule.connector_name,
            "currency": rule.currency,
            "amount_min": rule.amount_min,
            "amount_max": rule.amount_max,
            "team": rule.team_id,
            "priority": rule.priority or "",
            "sla_hours": rule.sla_hours,
        }


class BulkActionForm(ChangeForm):
    """What a bulk action needs besides the items: an assignee, a reason."""

    assignee_id = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Assign to")
    reason = forms.CharField(
        max_length=300,
        required=False,
        label="Reason",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Duplicates of the October import"}),
    )
    expected_count = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        if action == "assign":
            users = get_user_model().objects.filter(is_active=True).order_by("username")
            self.fields["assignee_id"].choices = [("", "Nobody (unassign)")] + [
                (user.pk, user.get_full_name() or user.get_username()) for user in users
            ]
        else:
            del self.fields["assignee_id"]
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = (
                "Say why; the reason is recorded on every item."
            )

    def clean_reason(self) -> str:
        return " ".join((self.cleaned_data.get("reason") or "").split())
