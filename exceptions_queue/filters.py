"""The queue's filter: one form parsed from the page's query string, and the
items it selects.

`filter_queue(params, user=...)` is the single definition of "the items matching
this filter": the queue page lists them and bulk actions act on "everything
matching", so both always agree. Invalid values become form errors shown on the
page and are left out of the filter, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet
from django.utils import timezone

from exceptions_queue.codes import ExceptionCode, Severity
from exceptions_queue.models import OPEN_STATUSES, ExceptionItem, Priority, Status
from exceptions_queue.selectors import (
    ALL,
    OPEN,
    QUEUE_DEFAULT_SORT,
    QUEUE_SORT_LABELS,
    QUEUE_SORTS,
    SLA_BREACHING,
    SLA_CHOICES,
    SLA_DUE_SOON,
    SLA_NONE,
    SLA_ON_TRACK,
    connector_choices,
    queue_items,
    queue_search,
)
from revops.models import LegalEntity
from revops.money import CURRENCY_CHOICES

ME = "me"
NOBODY = "none"
MAX_AGE_DAYS = 3650

SLA_WORDS = {
    SLA_BREACHING: "breaching SLA",
    SLA_DUE_SOON: "due within 24 h",
    SLA_ON_TRACK: "on track",
    SLA_NONE: "no SLA",
}

STATUS_CHOICES = [
    (OPEN, "Open"),
    *Status.choices,
    (ALL, "Any status"),
]

# The query-string parameters the filter reads; pages and bulk actions carry these along.
FILTER_PARAMS = (
    "q",
    "status",
    "code",
    "severity",
    "priority",
    "team",
    "assignee",
    "legal_entity",
    "connector",
    "sla",
    "older_than",
    "currency",
    "amount_min",
    "amount_max",
    "sort",
)


def _any(choices) -> list[tuple]:
    return [("", "Any"), *choices]


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=255,
        label="Search",
        help_text="Invoice or contract number, customer, external id, correlation id or dedupe key",
    )
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    code = forms.ChoiceField(required=False, choices=_any(ExceptionCode.choices))
    severity = forms.ChoiceField(required=False, choices=_any(Severity.choices))
    priority = forms.TypedChoiceField(
        required=False, choices=_any(Priority.choices), coerce=int, empty_value=None
    )
    team = forms.ModelChoiceField(required=False, queryset=Group.objects.order_by("name"), empty_label="Any")
    assignee = forms.CharField(required=False, max_length=20, widget=forms.Select)
    legal_entity = forms.ModelChoiceField(
        required=False, queryset=LegalEntity.objects.order_by("code"), empty_label="Any", label="Legal entity"
    )
    connector = forms.IntegerField(required=False, min_value=1, widget=forms.Select)
    sla = forms.ChoiceField(required=False, choices=_any(SLA_CHOICES), label="SLA")
    older_than = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_AGE_DAYS, label="Older than (days)"
    )
    currency = forms.ChoiceField(required=False, choices=_any(CURRENCY_CHOICES))
    amount_min = forms.DecimalField(required=False, max_digits=18, decimal_places=4, label="Amount from")
    amount_max = forms.DecimalField(required=False, max_digits=18, decimal_places=4, label="to")
    sort = forms.ChoiceField(required=False, choices=list(QUEUE_SORT_LABELS.items()), label="Sort")

    def __init__(self, data=None, *, user=None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)
        self.user = user
        self.fields["assignee"].widget.choices = [("", "Anyone"), (ME, "Me"), (NOBODY, "Unassigned")]
        self.fields["connector"].widget.choices = [("", "Any"), *connector_choices()]

    # -- field checks

    def clean_assignee(self):
        value = (self.cleaned_data.get("assignee") or "").strip()
        if value in ("", ME, NOBODY):
            if value == ME and not (self.user and self.user.is_authenticated):
                raise forms.ValidationError("Sign in to see the items assigned to you.")
            return value
        if not value.isdigit():
            raise forms.ValidationError('Choose a person, "me" or "none".')
        person = get_user_model().objects.filter(pk=int(value)).first()
        if person is None:
            raise forms.ValidationError("No such person.")
        return person

    def clean(self):
        data = super().clean()
        low, high = data.get("amount_min"), data.get("amount_max")
        if (
            (low is not None or high is not None)
            and not data.get("currency")
            and "currency" not in self.errors
        ):
            self.add_error("currency", "Choose the currency the amounts are in.")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", "The upper amount is below the lower one.")
        return data

    # -- the filter as used

    def filters(self) -> dict:
        """The valid values given; a field with an error is left out of the filter."""
        self.is_valid()
        data = {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if value not in (None, "") and name not in self.errors
        }
        if self.errors.get("currency") or self.errors.get("amount_max"):
            data.pop("amount_min", None)
            data.pop("amount_max", None)
        data["q"] = (data.get("q") or "").strip()
        if data["q"]:
            # Searching looks customers up by name: once per form, however often the filter is applied.
            if getattr(self, "_search", (None,))[0] != data["q"]:
                self._search = (data["q"], queue_search(data["q"]))
            data["search"] = self._search[1]
        data["status"] = data.get("status") or OPEN
        data["sort"] = data.get("sort") if data.get("sort") in QUEUE_SORTS else QUEUE_DEFAULT_SORT
        return data


def filter_conditions(data: Mapping, *, user, now: dt.datetime, skip: frozenset[str] = frozenset()) -> Q:
    """The filter as one condition. `skip` leaves fields out (the counts per
    status ignore the status filter, the counts per code the code filter)."""
    q = Q()
    status = data.get("status", OPEN)
    if "status" not in skip:
        if status == OPEN:
            q &= Q(status__in=OPEN_STATUSES)
        elif status != ALL:
            q &= Q(status=status)
    for field, lookup in (("code", "code"), ("severity", "severity"), ("priority", "priority")):
        if field not in skip and data.get(field) not in (None, ""):
            q &= Q(**{lookup: data[field]})
    if data.get("team"):
        q &= Q(team_id=data["team"].pk)
    assignee = data.get("assignee")
    if assignee == ME:
        q &= Q(assignee_id=user.pk)
    elif assignee == NOBODY:
        q &= Q(assignee__isnull=True)
    elif assignee:
        q &= Q(assignee_id=assignee.pk)
    if data.get("legal_entity"):
        q &= Q(legal_entity_id=data["legal_entity"].pk)
    if data.get("connector"):
        q &= Q(connector_id=data["connector"])
    q &= _sla_condition(data.get("sla"), now)
    if data.get("older_than"):
        q &= Q(first_seen_at__lt=now - dt.timedelta(days=data["older_than"]))
    if data.get("currency"):
        q &= Q(currency=data["currency"])
    if data.get("amount_min") is not None:
        q &= Q(amount__gte=data["amount_min"])
    if data.get("amount_max") is not None:
        q &= Q(amount__lte=data["amount_max"])
    if data.get("q"):
        q &= data["search"] if "search" in data else queue_search(data["q"])
    return q


def is_simple(data: Mapping) -> bool:
    """Whether the filter asks for nothing but a status and a code: the counts
    per status and per code then come from index-only scans."""
    return not any(
        value not in (None, "") for key, value in data.items() if key not in ("status", "code", "sort")
    )


def _sla_condition(sla: str | None, now: dt.datetime) -> Q:
    soon = now + dt.timedelta(hours=24)
    if sla == SLA_BREACHING:
        return Q(status__in=OPEN_STATUSES, due_at__lt=now)
    if sla == SLA_DUE_SOON:
        return Q(status__in=OPEN_STATUSES, due_at__gte=now, due_at__lt=soon)
    if sla == SLA_ON_TRACK:
        return Q(status__in=OPEN_STATUSES, due_at__gte=soon)
    if sla == SLA_NONE:
        return Q(due_at__isnull=True)
    return Q()


def filter_queue(
    params: Mapping, *, user, now: dt.datetime | None = None
) -> tuple[QuerySet[ExceptionItem], QueueFilterForm]:
    """The items matching the page's GET parameters, sorted, and the bound form
    (with its errors). `params`: a QueryDict or a plain mapping."""
    form = QueueFilterForm(_plain(params), user=user)
    data = form.filters()
    now = now or timezone.now()
    qs = queue_items(filter_conditions(data, user=user, now=now), sort=data["sort"])
    return qs, form


def _plain(params: Mapping) -> dict:
    """Single values from a QueryDict (the last one, as request.GET[...] does)."""
    if hasattr(params, "getlist"):
        return {key: params.get(key) for key in params if key in FILTER_PARAMS}
    return {key: value for key, value in params.items() if key in FILTER_PARAMS}


def describe_filter(form: QueueFilterForm) -> str:
    """The filter in a few words, e.g. "Open · Tax mismatch · team Tax · breaching SLA"."""
    data = form.filters()
    parts: list[str] = [dict(STATUS_CHOICES).get(data["status"], data["status"])]
    if data.get("code"):
        parts.append(ExceptionCode(data["code"]).label)
    if data.get("severity"):
        parts.append(f"{Severity(data['severity']).label.lower()} severity")
    if data.get("priority"):
        parts.append(f"{Priority(data['priority']).label.lower()} priority")
    if data.get("team"):
        parts.append(f"team {data['team'].name}")
    assignee = data.get("assignee")
    if assignee == ME:
        parts.append("assigned to me")
    elif assignee == NOBODY:
        parts.append("unassigned")
    elif assignee:
        parts.append(f"assigned to {assignee.get_full_name() or assignee.get_username()}")
    if data.get("legal_entity"):
        parts.append(data["legal_entity"].code)
    if data.get("connector"):
        names = dict(connector_choices())
        parts.append(f"connector {names.get(data['connector'], '#' + str(data['connector']))}")
    if data.get("sla"):
        parts.append(SLA_WORDS[data["sla"]])
    if data.get("older_than"):
        parts.append(f"older than {data['older_than']} days")
    low, high = data.get("amount_min"), data.get("amount_max")
    currency = data.get("currency", "")
    if low is not None and high is not None:
        parts.append(f"{currency} {_amount(low)}–{_amount(high)}")
    elif low is not None:
        parts.append(f"{currency} ≥ {_amount(low)}")
    elif high is not None:
        parts.append(f"{currency} ≤ {_amount(high)}")
    elif currency:
        parts.append(currency)
    if data.get("q"):
        parts.append(f"“{data['q']}”")
    return " · ".join(parts)


def _amount(value: Decimal) -> str:
    return f"{value.normalize():,f}"
