"""Forms of the exception item detail page: the correction (with its dry-run
check), the suggested one-click fixes, assign, comment and dismiss.

The correction form has one row per failing value the pipeline pointed at (a
non-empty `path` in the item's error details) and one free row for any other
value of the payload. Inputs show the value the next resubmission would send;
text typed in them is read back as the JSON type of the received value, and
only values that differ from the payload as received make up the correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q

from exceptions_queue.item_detail import field_label
from exceptions_queue.models import ExceptionItem
from exceptions_queue.payload_paths import (
    MISSING,
    ValueTypeError,
    as_text,
    is_leaf,
    parse_like,
    type_name,
    value_at,
)

REASON_MAX = 500
COMMENT_MAX = 5000
PATH_MAX = 300
VALUE_MAX = 10_000
REASON_HELP = "Why this is right; it goes into the item's history."


def _reason_field(*, required: bool = True, label: str = "Reason") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=REASON_MAX,
        strip=True,
        help_text=REASON_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


@dataclass
class CorrectionRow:
    """One failing value: where it is, what was received, what was expected."""

    path: str
    label: str
    message: str
    received: Any  # the payload value as received (MISSING when absent)
    expected: Any
    field_name: str = ""

    @property
    def received_text(self) -> str:
        return "(missing)" if self.received is MISSING else as_text(self.received)

    @property
    def type_hint(self) -> str:
        return type_name(self.received)


def correction_rows(item: ExceptionItem) -> list[CorrectionRow]:
    """One row per distinct payload path among the item's error details."""
    rows: dict[str, CorrectionRow] = {}
    for detail in item.error_details or []:
        path = str(detail.get("path") or "").strip()
        if not path:
            continue
        row = rows.get(path)
        if row is None:
            received = value_at(item.payload, path)
            if received is not MISSING and not is_leaf(received):
                continue  # a whole object is edited through the free row, as JSON
            rows[path] = CorrectionRow(
                path=path,
                label=str(detail.get("label") or "") or field_label(str(detail.get("field") or "")) or path,
                message=str(detail.get("message") or ""),
                received=received,
                expected=detail.get("expected"),
            )
        elif detail.get("message") and detail["message"] not in row.message:
            row.message = f"{row.message}; {detail['message']}" if row.message else detail["message"]
    return list(rows.values())


class CorrectionForm(forms.Form):
    """The analyst's corrected values. `require_reason=False` for the dry-run check."""

    extra_path = forms.CharField(
        label="Other field (path)",
        required=False,
        max_length=PATH_MAX,
        help_text='A dotted path in the payload, e.g. "customer" or "lines.data.0.amount".',
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    extra_value = forms.CharField(label="New value", required=False, max_length=VALUE_MAX, strip=False)

    def __init__(self, *args, item: ExceptionItem, require_reason: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["reason"] = _reason_field(required=require_reason)
        self.rows = correction_rows(item)
        corrected = item.correction or {}
        for index, row in enumerate(self.rows):
            row.field_name = f"fix_{index}"
            current = corrected.get(row.path, row.received)
            self.fields[row.field_name] = forms.CharField(
                label=row.label,
                required=False,
                max_length=VALUE_MAX,
                strip=False,
                initial=as_text(current),
                help_text=row.type_hint,
            )
        self.correction: dict[str, Any] | None = None

    def bound_rows(self) -> list[tuple[CorrectionRow, forms.BoundField]]:
        return [(row, self[row.field_name]) for row in self.rows]

    def clean(self):
        cleaned = super().clean()
        correction: dict[str, Any] = {}
        for row in self.rows:
            text = cleaned.get(row.field_name)
            if text is None or not text.strip():
                continue  # blank keeps the value as received
            try:
                value = parse_like(text, row.received)
            except ValueTypeError as exc:
                self.add_error(row.field_name, str(exc))
                continue
            if row.received is MISSING or value != row.received:
                correction[row.path] = value
        path = (cleaned.get("extra_path") or "").strip()
        text = cleaned.get("extra_value") or ""
        if path:
            received = value_at(self.item.payload, path)
            if received is MISSING:
                self.add_error("extra_path", f"The payload has no value at {path!r}.")
            elif not text.strip():
                self.add_error("extra_value", "Enter the new value for this field.")
            else:
                try:
                    value = parse_like(text, received)
                except ValueTypeError as exc:
                    self.add_error("extra_value", str(exc))
                else:
                    if value != received:
                        correction[path] = value
                    else:
                        correction.pop(path, None)
        elif text.strip():
            self.add_error("extra_path", "Say which field of the payload this value replaces.")
        # Nothing changed: the record is resubmitted as received (e.g. after the
        # customer it names was created).
        self.correction = correction or None
        return cleaned


class SuggestedFixForm(forms.Form):
    """One of the item's suggested corrections, chosen by its button."""

    option = forms.ChoiceField(label="Fix", choices=())
    reason = _reason_field()

    def __init__(self, *args, item: ExceptionItem, **kwargs):
        kwargs.setdefault("auto_id", "id_fix_%s")  # its reason input sits on the page with others
        super().__init__(*args, **kwargs)
        self.options = suggested_options(item)
        self.fields["option"].choices = [(option["key"], option["label"]) for option in self.options]
        self.fields["option"].error_messages["invalid_choice"] = (
            "This fix is no longer offered for the item; reload the page."
        )

    def chosen(self) -> dict[str, Any]:
        key = self.cleaned_data["option"]
        return next(option for option in self.options if option["key"] == key)


def suggested_options(item: ExceptionItem) -> list[dict[str, Any]]:
    """The item's suggested one-click fixes, well-formed ones only."""
    suggestion = item.suggested_correction
    if not isinstance(suggestion, dict):
        return []
    options = []
    for option in suggestion.get("options") or []:
        if (
            isinstance(option, dict)
            and option.get("key")
            and isinstance(option.get("correction"), dict)
            and option["correction"]
        ):
            options.append(
                {
                    "key": str(option["key"]),
                    "label": str(option.get("label") or option["key"]),
                    "description": str(option.get("description") or ""),
                    "correction": option["correction"],
                }
            )
    return options


def assignable_users():
    """Active people who may work exception items."""
    User = get_user_model()
    perm = Permission.objects.filter(
        content_type__app_label="exceptions_queue", codename="change_exceptionitem"
    ).first()
    who = Q(is_superuser=True)
    if perm is not None:
        who |= Q(groups__permissions=perm) | Q(user_permissions=perm)
    return User.objects.filter(who, is_active=True).distinct().order_by(User.USERNAME_FIELD)


ME = "me"


class AssignForm(forms.Form):
    """`assignee`: a user id, "me", or blank to unassign."""

    assignee = forms.CharField(label="Assignee", required=False, max_length=20)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.users = list(assignable_users())

    def clean_assignee(self):
        value = (self.cleaned_data.get("assignee") or "").strip()
        if not value:
            return None
        if value == ME:
            return self.user
        found = next((u for u in self.users if str(u.pk) == value), None)
        if found is None:
            raise forms.ValidationError("Choose someone who works exception items.")
        return found


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=COMMENT_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a comment first."},
    )


class DismissForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_dismiss_%s")  # its reason input sits on the page with others
        super().__init__(*args, **kwargs)

    reason = forms.CharField(
        label="Reason for dismissing",
        max_length=REASON_MAX,
        strip=True,
        help_text="Why no correction is needed; it goes into the item's history.",
        error_messages={"required": "Dismissing an item needs a reason."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
