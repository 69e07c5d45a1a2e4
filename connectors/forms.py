"""Forms of the connector pages.

Secrets are write-only: credential and webhook-secret inputs never render a
value, and a blank one keeps what is stored. The service validates the rest
(base URL safety, streams, schedule) and its messages land on the fields.
"""

from __future__ import annotations

from django import forms

from connectors.base import ConnectorKind
from connectors.models import Connector, InboundRecord
from revops.models import LegalEntity
from revops.web.forms import ChangeForm, reason_field

CREDENTIAL_PREFIX = "credential_"
KEEP_HELP = "Leave blank to keep the stored value."


def _secret_input() -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


class ConnectorForm(ChangeForm):
    """Add (`connector` None) or edit a connector of one kind. The kind is fixed
    once chosen: its cursors, credentials and stored records belong to it."""

    name = forms.SlugField(
        max_length=60,
        help_text="Short unique name with letters, digits and dashes, e.g. stripe-us. Webhook URLs use it.",
    )
    legal_entity = forms.ModelChoiceField(queryset=LegalEntity.objects.order_by("code"), label="Legal entity")
    enabled = forms.BooleanField(
        required=False, initial=True, help_text="A disabled connector's schedule does not run."
    )
    base_url = forms.CharField(
        required=False,
        max_length=300,
        label="Base URL",
        help_text="https only, and a public address unless the deployment allows private networks.",
    )
    object_types = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Object types",
        help_text="What to sync. None ticked means all of them.",
    )
    direction = forms.ChoiceField(choices=Connector.Direction.choices)
    schedule_type = forms.ChoiceField(choices=Connector.ScheduleType.choices, label="Schedule")
    interval_minutes = forms.IntegerField(
        required=False, min_value=1, label="Interval (minutes)", help_text="For “Every N minutes”."
    )
    cron = forms.CharField(
        required=False,
        max_length=100,
        label="Cron expression",
        help_text="For “Cron expression”: minute hour day-of-month month day-of-week, e.g. 0 * * * *.",
    )

    def __init__(self, *args, kind: type[ConnectorKind], connector: Connector | None = None, **kwargs):
        if connector is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": connector.name,
                "legal_entity": connector.legal_entity_id,
                "enabled": connector.enabled,
                "base_url": connector.base_url,
                "object_types": list(connector.object_types or []),
                "direction": connector.direction,
                "schedule_type": connector.schedule_type,
                "interval_minutes": connector.interval_minutes,
                "cron": connector.cron,
            }
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.connector = connector
        self.fields["object_types"].choices = [(s, s.replace("_", " ")) for s in kind.streams]
        if kind.default_base_url:
            self.fields["base_url"].help_text += f" Blank uses {kind.default_base_url}."
        editing = connector is not None
        for name, label in kind.credential_fields.items():
            self.fields[CREDENTIAL_PREFIX + name] = forms.CharField(
                required=False,
                label=label,
                strip=True,
                widget=_secret_input(),
                help_text=KEEP_HELP if editing else "",
            )
        if kind.supports_webhooks:
            self.fields["webhook_secret"] = forms.CharField(
                required=False,
                label="Webhook signing secret",
                strip=True,
                widget=_secret_input(),
                help_text=KEEP_HELP if editing else "The secret the vendor signs webhook deliveries with.",
            )
        self.fields["reason"] = reason_field()

    def clean(self):
        data = super().clean()
        schedule = data.get("schedule_type")
        if schedule == Connector.ScheduleType.INTERVAL and not data.get("interval_minutes"):
            self.add_error("interval_minutes", "Give the interval in whole minutes (at least 1).")
        if schedule == Connector.ScheduleType.CRON and not (data.get("cron") or "").strip():
            self.add_error("cron", "Give the cron expression, e.g. 0 * * * * for hourly.")
        return data

    def values(self) -> dict:
        """The configuration for `connector_save` (secrets apart)."""
        data = self.cleaned_data
        schedule = data["schedule_type"]
        values = {
            "name": data["name"],
            "legal_entity": data["legal_entity"],
            "enabled": data["enabled"],
            "base_url": data["base_url"].strip(),
            "object_types": list(data["object_types"]),
            "direction": data["direction"],
            "schedule_type": schedule,
            "interval_minutes": data["interval_minutes"]
            if schedule == Connector.ScheduleType.INTERVAL
            else None,
            "cron": data["cron"].strip() if schedule == Connector.ScheduleType.CRON else "",
        }
        if self.connector is None:
            values["kind"] = self.kind.key
        return values

    def credentials(self) -> dict[str, str]:
        return {
            name: self.cleaned_data.get(CREDENTIAL_PREFIX + name, "") for name in self.kind.credential_fields
        }

    def webhook_secret(self) -> str | None:
        return self.cleaned_data.get("webhook_secret") or None

    def credential_fields(self):
        return [
            self[name]
            for name in self.fields
            if name.startswith(CREDENTIAL_PREFIX) or name == "webhook_secret"
        ]


class OutcomeFilterForm(forms.Form):
    outcome = forms.ChoiceField(required=False, choices=[("", "Any"), *InboundRecord.Outcome.choices])

    def outcome_value(self) -> str:
        return self.cleaned_data.get("outcome", "") if self.is_valid() else ""
