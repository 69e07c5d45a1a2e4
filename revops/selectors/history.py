"""Change history as an auditor reads it.

Every tracked model keeps a simple-history table; each row is one create, change
or delete with who (the user, or the system and run that made it), when and why.
`object_history` turns those rows into entries with each changed field as
before → after, merging in the history of an object's child rows (a customer's
contacts, an invoice's lines) so that one tab tells the whole story.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.utils.text import capfirst

from revops.models import (
    Contract,
    ContractAmendment,
    ContractLine,
    Customer,
    CustomerContact,
    Invoice,
    InvoiceLine,
    OwnershipRule,
    Payment,
    PaymentApplication,
)
from revops.money import AMOUNT_PLACES, CURRENCY_EXPONENTS, format_amount

HISTORY_LIMIT = 200
EMPTY = ""
TYPES = {"+": "created", "~": "changed", "-": "deleted"}
# Never shown as changes: bookkeeping columns, not business data.
IGNORED_FIELDS = {"id", "created_at", "updated_at"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: dt.datetime
    type: str
    actor: str
    source: str
    user: str
    reason: str
    object_label: str
    model_name: str
    object_id: int
    history_id: int
    changes: list[FieldChange] = field(default_factory=list)
    # For child rows: the parent object's id (a contact's customer).
    parent_id: int | None = None


@dataclass(frozen=True)
class Child:
    """A child model whose history belongs on its parent's History tab."""

    model: type[models.Model]
    parent_field: str
    label: Callable[[models.Model], str]


CHILDREN: dict[type[models.Model], list[Child]] = {
    Customer: [Child(CustomerContact, "customer", lambda row: f"Contact {row.name}")],
    Contract: [
        Child(ContractLine, "contract", lambda row: f"Line #{row.id}"),
        Child(ContractAmendment, "contract", lambda row: f"Amendment {row.sequence}"),
    ],
    Invoice: [
        Child(InvoiceLine, "invoice", lambda row: f"Line {row.line_number}"),
        Child(PaymentApplication, "invoice", lambda row: f"Payment application #{row.id}"),
    ],
    Payment: [Child(PaymentApplication, "payment", lambda row: f"Application #{row.id}")],
}


def _is_money(model_field: models.Field) -> bool:
    return isinstance(model_field, models.DecimalField) and model_field.decimal_places == AMOUNT_PLACES


class _Display:
    """Turns stored values into what a person reads; looks up related objects in
    bulk so a long history costs a handful of queries."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        self._pending: dict[type[models.Model], set] = defaultdict(set)
        self._labels: dict[tuple[type[models.Model], object], str] = {}

    def field(self, name: str) -> models.Field | None:
        try:
            return self.model._meta.get_field(name)
        except Exception:
            return None

    def want(self, name: str, value) -> None:
        model_field = self.field(name)
        if value not in (None, "") and isinstance(model_field, models.ForeignKey):
            self._pending[model_field.related_model].add(value)

    def resolve(self) -> None:
        for related, pks in self._pending.items():
            found = related._base_manager.filter(pk__in=pks).select_related()
            for obj in found:
                self._labels[(related, obj.pk)] = str(obj)
        self._pending.clear()

    def value(self, name: str, value, currency: str | None) -> str:
        if value is None or value == "":
            return EMPTY
        model_field = self.field(name)
        if isinstance(model_field, models.ForeignKey):
            label = self._labels.get((model_field.related_model, value))
            return label if label is not None else f"#{value} (deleted)"
        if model_field is not None and model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, Decimal):
            if model_field is not None and _is_money(model_field) and currency in CURRENCY_EXPONENTS:
                return f"{format_amount(value, currency)} {currency}"
            return f"{value.normalize():f}"
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)

    def verbose(self, name: str) -> str:
        model_field = self.field(name)
        return capfirst(str(model_field.verbose_name)) if model_field is not None else name


def _tracked_names(row) -> list[str]:
    # Fields a model keeps out of its history (excluded_fields) are not on its rows.
    return [
        f.name
        for f in row.instance_type._meta.fields
        if f.name not in IGNORED_FIELDS and hasattr(row, f.attname)
    ]


def _entries_for_rows(
    rows: list,
    *,
    model: type[models.Model],
    label: Callable,
    complete: bool,
    currency: str | None,
    parent_field: str | None = None,
) -> list[HistoryEntry]:
    """`rows`: newest first. `complete`: the rows hold every version, so a row
    with no older row of the same object has no previous version."""
    display = _Display(model)
    older: dict[int, object] = {}
    deltas = []
    # Walk oldest → newest so each row meets the version just before it.
    for row in reversed(rows):
        previous = older.get(row.id)
        if previous is None and not complete and row.history_type != "+":
            previous = row.prev_record
        older[row.id] = row
        if row.history_type == "~" and previous is not None:
            delta = row.diff_against(previous, excluded_fields=IGNORED_FIELDS)
            pairs = [(c.field, c.old, c.new) for c in delta.changes]
        elif row.history_type == "+":
            pairs = [(name, None, getattr(row, _attname(model, name))) for name in _tracked_names(row)]
            pairs = [p for p in pairs if p[2] not in (None, "")]
        elif row.history_type == "-":
            pairs = [(name, getattr(row, _attname(model, name)), None) for name in _tracked_names(row)]
            pairs = [p for p in pairs if p[1] not in (None, "")]
        else:
            pairs = []
        if parent_field:
            pairs = [p for p in pairs if p[0] != parent_field]
        for name, old, new in pairs:
            display.want(name, old)
            display.want(name, new)
        deltas.append((row, pairs))
    display.resolve()
    entries = []
    for row, pairs in reversed(deltas):
        row_currency = getattr(row, "currency", None) or currency
        user = row.history_user
        entries.append(
            HistoryEntry(
                when=row.history_date,
                type=TYPES.get(row.history_type, row.history_type),
                actor=row.history_actor,
                source=row.history_source,
                user=user.get_username() if user is not None else "",
                reason=row.history_change_reason or "",
                object_label=label(row),
                model_name=model._meta.model_name,
                object_id=row.id,
                history_id=row.history_id,
                parent_id=getattr(row, f"{parent_field}_id", None) if parent_field else None,
                changes=[
                    FieldChange(
                        display.verbose(name),
                        display.value(name, old, row_currency),
                        display.value(name, new, row_currency),
                    )
                    for name, old, new in pairs
                ],
            )
        )
    return entries


def _attname(model: type[models.Model], name: str) -> str:
    return model._meta.get_field(name).attname


def _rows(history_model, filters: dict, limit: int) -> tuple[list, bool]:
    rows = list(
        history_model.objects.filter(**filters)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    return rows[:limit], len(rows) <= limit


def object_history(
    obj: models.Model, *, include_children: bool = True, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry]:
    """Every recorded change to `obj` (and its child rows), newest first, at most `limit`."""
    model = type(obj)
    currency = getattr(obj, "currency", None)
    rows, complete = _rows(model.history.model, {"id": obj.pk}, limit)
    entries = _entries_for_rows(
        rows,
        model=model,
        label=lambda row: str(model._meta.verbose_name).capitalize(),
        complete=complete,
        currency=currency,
    )
    if include_children:
        for child in CHILDREN.get(model, []):
            child_rows, child_complete = _rows(
                child.model.history.model, {f"{child.parent_field}_id": obj.pk}, limit
            )
            entries += _entries_for_rows(
                child_rows,
                model=child.model,
                label=child.label,
                complete=child_complete,
                currency=currency,
                parent_field=child.parent_field,
            )
    entries.sort(key=lambda e: (e.when, e.history_id), reverse=True)
    return entries[:limit]


def table_history(
    model: type[models.Model], *, label: Callable, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry]:
    """Every recorded change to any row of `model` (deleted rows included), newest first."""
    rows, complete = _rows(model.history.model, {}, limit)
    return _entries_for_rows(rows, model=model, label=label, complete=complete, currency=None)


# Models whose changes the dashboard lists, with how to name a row and which
# object page it belongs to (parent_field: a child row shows on its parent's page).
RECENT_SOURCES: list[tuple[type[models.Model], Callable, str | None]] = [
    (Customer, lambda row: f"Customer {row.number} {row.name}", None),
    (CustomerContact, lambda row: f"Contact {row.name}", "customer"),
    (Contract, lambda row: f"Contract {row.number}", None),
    (Invoice, lambda row: f"Invoice {row.number}", None),
    (Payment, lambda row: f"Payment {row.number}", None),
    (OwnershipRule, lambda row: f"Ownership rule {row.object_type}.{row.field}", None),
]


def recent_changes(*, limit: int = 15, sources: Iterable = RECENT_SOURCES) -> list[HistoryEntry]:
    """The newest changes across the main models, without field diffs."""
    entries = []
    for model, label, parent_field in sources:
        rows = model.history.model.objects.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )
        for row in rows[:limit]:
            user = row.history_user
            entries.append(
                HistoryEntry(
                    when=row.history_date,
                    type=TYPES.get(row.history_type, row.history_type),
                    actor=row.history_actor,
                    source=row.history_source,
                    user=user.get_username() if user is not None else "",
                    reason=row.history_change_reason or "",
                    object_label=label(row),
                    model_name=model._meta.model_name,
                    object_id=row.id,
                    history_id=row.history_id,
                    parent_id=getattr(row, f"{parent_field}_id") if parent_field else None,
                )
            )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]
