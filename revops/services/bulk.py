"""Set-based creation for the canonical domain: many customers or invoices in
one go, for imports and sync pages.

Each spec is checked with the rules `customer_create` / `invoice_create` apply
(the same functions), uniqueness is checked for the whole batch in one query,
and the rows, their lines, history rows, business events and external ids are
written set-based (see `bulk_rows`) in the caller's transaction. The result
is what creating the same specs one by one, in order, would leave behind.

With `system`, each spec's `external_id` (when it has one) is linked to the
new object as `external_ref_link` would link it (a blank id, or one the
system already uses, is refused like any other invalid input).

`partial=False` (the default) is all or nothing: any invalid spec raises
`BulkValidationError` and nothing is written. `partial=True` writes the valid
specs and reports the others in `rejected`, for a caller that handles them
one by one (the sync engine does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import (
    BusinessEvent,
    Contract,
    Customer,
    CustomerContact,
    ExternalRef,
    Invoice,
    InvoiceLine,
    LegalEntity,
    TaxMode,
)
from revops.money import AMOUNT_PLACES
from revops.services import billing, parties
from revops.services.bulk_params import AnyOf
from revops.services.bulk_rows import (
    attribution,
    events_insert,
    history_insert,
    lookup,
    model_rows,
    reserve_ids,
    rows_insert,
    timed,
)
from revops.validators import model_instance, model_values

T = TypeVar("T")
_STORED = Decimal(1).scaleb(-AMOUNT_PLACES)
_ISSUED_AFTER = dt.timedelta(microseconds=1)  # the issue is a later change than the creation


class BulkValidationError(DomainValidationError):
    """Specs that break the rules; `rejected` maps spec index → its error."""

    def __init__(self, rejected: Mapping[int, DomainValidationError]):
        self.rejected = dict(rejected)
        super().__init__(
            {
                f"{index}.{name}": messages
                for index, error in sorted(self.rejected.items())
                for name, messages in error.message_dict.items()
            }
        )


@dataclass
class BulkResult(Generic[T]):
    created: dict[int, T] = field(default_factory=dict)  # spec index → new object
    rejected: dict[int, DomainValidationError] = field(default_factory=dict)

    @property
    def objects(self) -> list[T]:
        return [self.created[index] for index in sorted(self.created)]


def _pools(counts: dict) -> dict:
    """Reserved ids by model, handed out in order as rows are written."""
    return {model: iter(ids) for model, ids in reserve_ids(counts).items()}


def _errors(exc: DomainValidationError) -> DomainValidationError:
    return exc if hasattr(exc, "error_dict") else DomainValidationError({"": exc.messages})


class _ExternalIds:
    """Checks the external ids of a batch as `external_ref_link` would, with one
    query: blank ids, ids the system already uses, an id given twice."""

    def __init__(self, system: str, object_type: str, external_ids: Sequence[str]):
        self.system, self.object_type = system, object_type
        self.used: set[str] = set()
        if system:
            wanted = list({(e or "").strip() for e in external_ids} - {""})
            # By external id alone: the one index that answers it whatever the
            # table's statistics say.
            self.used = {
                external_id
                for ref_system, ref_type, external_id in lookup(
                    ExternalRef.objects.filter(AnyOf(F("external_id"), wanted)).values_list(
                        "system", "object_type", "external_id"
                    )
                )
                if ref_system == system and ref_type == object_type
            }

    def take(self, external_id: str) -> str:
        """The stripped id, now taken ("" when there is nothing to link: no
        system, or no id given); raises when it cannot be linked."""
        if not self.system or external_id == "":
            return ""
        external_id = (external_id or "").strip()
        if not external_id:
            raise DomainValidationError({"external_id": ["An external id cannot be blank."]})
        if external_id in self.used:
            raise DomainValidationError(
                {
                    "external_id": [
                        f"{self.system} {self.object_type} {external_id} already points to another record."
                    ]
                }
            )
        self.used.add(external_id)
        return external_id


def _link(
    system: str, object_type: str, links: list[tuple[str, object]], actor: Actor, reason: str, when, ids
) -> None:
    """ExternalRefs for new objects (`links`: (external id, object), the id
    checked by `_ExternalIds`), with their history rows."""
    if not links:
        return
    with timed("refs"):
        content_type = ContentType.objects.get_for_model(links[0][1])
        rows = [
            {
                "system": system,
                "object_type": object_type,
                "external_id": external_id,
                "content_type_id": content_type.pk,
                "object_id": target.pk,
                "created_at": when,
            }
            for external_id, target in links
        ]
    rows_insert(ExternalRef, rows, ids=ids)
    history_insert(ExternalRef, rows, history_type="+", actor=actor, reason=reason, when=when)


# -- customers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactSpec:
    name: str
    email: str
    phone: str = ""
    role: str = ""


@dataclass(frozen=True)
class CustomerSpec:
    """`customer_create`'s arguments; `details` are its keyword details, and
    `contacts` are added as `contact_add` would (the first is primary)."""

    number: str
    name: str
    legal_entity: LegalEntity
    currency: str
    country: str
    details: Mapping[str, Any] = field(default_factory=dict)
    contacts: tuple[ContactSpec, ...] = ()
    external_id: str = ""  # linked when `system` is given


def _customer_values(spec: CustomerSpec) -> dict[str, Any]:
    return parties.customer_values(
        number=spec.number,
        name=spec.name,
        legal_entity=spec.legal_entity,
        currency=spec.currency,
        country=spec.country,
        **spec.details,
    )


def _checked_customer(spec: CustomerSpec, values: dict[str, Any]) -> tuple[Customer, list[CustomerContact]]:
    """The customer checked as `customer_create` checks it (on its values: no
    model is built for a customer that fails), then built, with its contacts."""
    customer = model_instance(
        Customer, {**parties.check_customer_values(values), "legal_entity": spec.legal_entity}
    )
    contacts = [
        parties.contact_build(
            customer=customer, name=c.name, email=c.email, phone=c.phone, role=c.role, is_primary=i == 0
        )
        for i, c in enumerate(spec.contacts)
    ]
    emails: set[str] = set()
    for contact in contacts:
        parties.check_contact(contact, unique=False)
        if contact.email.lower() in emails:
            raise field_error("email", f"{contact.email} is already a contact of this customer.")
        emails.add(contact.email.lower())
    return customer, contacts


@transaction.atomic
def customers_create_many(
    *,
    specs: Sequence[CustomerSpec],
    actor: Actor,
    reason: str = "Customer created",
    system: str = "",
    partial: bool = False,
) -> BulkResult[Customer]:
    """Create customers (and their contacts) as `customer_create` and
    `contact_add` would, one `customer.created` event each."""
    attribution(actor, reason)  # a blank reason fails before anything is checked
    result: BulkResult[Customer] = BulkResult()
    with timed("validate"):
        values: dict[int, dict[str, Any]] = {}
        for index, spec in enumerate(specs):
            try:
                values[index] = _customer_values(spec)
            except DomainValidationError as exc:
                result.rejected[index] = _errors(exc)
        taken = {
            row[0]
            for row in lookup(
                Customer.objects.filter(
                    AnyOf(F("number"), [v["number"] for v in values.values()])
                ).values_list("number")
            )
        }
        refs = _ExternalIds(system, "customer", [specs[index].external_id for index in values])
        built: dict[int, tuple[Customer, list[CustomerContact]]] = {}
        accepted: dict[int, str] = {}
        for index, its_values in values.items():
            number = its_values["number"]
            if number in taken:
                result.rejected[index] = field_error("number", f"Customer number {number} is already in use.")
                continue
            try:
                built[index] = _checked_customer(specs[index], its_values)
                accepted[index] = refs.take(specs[index].external_id)
            except DomainValidationError as exc:
                result.rejected[index] = _errors(exc)
                continue
            taken.add(number)  # a later spec with this number comes second, as one by one
    if result.rejected and not partial:
        raise BulkValidationError(result.rejected)
    _write_customers(
        [built[index] for index in accepted],
        [(external_id, built[index][0]) for index, external_id in accepted.items() if external_id],
        system,
        actor,
        reason,
    )
    result.created = {index: built[index][0] for index in accepted}
    return result


def _write_customers(
    items: list[tuple[Customer, list[CustomerContact]]],
    links: list,
    system: str,
    actor: Actor,
    reason: str,
) -> None:
    if not items:
        return
    now = timezone.now()
    customers = [customer for customer, _ in items]
    contacts = [contact for _, its_contacts in items for contact in its_contacts]
    ids = _pools(
        {
            Customer: len(customers),
            CustomerContact: len(contacts),
            BusinessEvent: len(customers),
            ExternalRef: len(links),
        }
    )
    with timed("canonical"):
        for customer in customers:
            customer.created_at = customer.updated_at = now
        rows = model_rows(customers)
    rows_insert(Customer, rows, ids=ids.get(Customer, True))
    for customer, row in zip(customers, rows, strict=True):
        customer.pk = row["id"]
        customer._state.adding = False
    history_insert(Customer, rows, history_type="+", actor=actor, reason=reason, when=now)
    with timed("canonical"):
        for customer, its_contacts in items:
            for contact in its_contacts:
                contact.customer = customer
                contact.created_at = contact.updated_at = now
        contact_rows = model_rows(contacts)
    rows_insert(CustomerContact, contact_rows, ids=ids.get(CustomerContact, True))
    history_insert(CustomerContact, contact_rows, history_type="+", actor=actor, reason=reason, when=now)
    for contact, row in zip(contacts, contact_rows, strict=True):
        contact.pk = row["id"]
        contact._state.adding = False
    events_insert(
        type="customer.created",
        subjects=[(customer, {"number": customer.number}, None) for customer in customers],
        actor=actor,
        when=now,
        ids=ids.get(BusinessEvent, True),
    )
    _link(system, "customer", links, actor, reason, now, ids.get(ExternalRef, True))


# -- invoices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceSpec:
    """`invoice_create`'s arguments."""

    number: str
    customer: Customer
    issue_date: dt.date
    lines: Sequence[billing.InvoiceLineSpec]
    tax_mode: str = TaxMode.EXCLUSIVE
    contract: Contract | None = None
    legal_entity: LegalEntity | None = None
    currency: str | None = None
    due_date: dt.date | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    issue: bool = True
    expected_total: Decimal | None = None
    memo: str = ""
    external_id: str = ""  # linked when `system` is given


@transaction.atomic
def invoices_create_many(
    *,
    specs: Sequence[InvoiceSpec],
    actor: Actor,
    reason: str = "Invoice created",
    system: str = "",
    partial: bool = False,
) -> BulkResult[Invoice]:
    """Create invoices with their lines as `invoice_create` would; those with
    `issue` are issued as `invoice_issue` does (a second history row, reason
    "Invoice issued", and an `invoice.issued` event with the correlation id)."""
    attribution(actor, reason)
    result: BulkResult[Invoice] = BulkResult()
    with timed("validate"):
        headers: dict[int, tuple[LegalEntity, str, dt.date]] = {}
        for index, spec in enumerate(specs):
            try:
                headers[index] = billing.invoice_header(
                    customer=spec.customer,
                    issue_date=spec.issue_date,
                    tax_mode=spec.tax_mode,
                    contract=spec.contract,
                    legal_entity=spec.legal_entity,
                    currency=spec.currency,
                    due_date=spec.due_date,
                    period_start=spec.period_start,
                    period_end=spec.period_end,
                )
            except DomainValidationError as exc:
                result.rejected[index] = _errors(exc)
        taken = set(
            lookup(
                Invoice.objects.filter(
                    AnyOf(F("number"), [specs[index].number for index in headers])
                ).values_list("legal_entity_id", "number")
            )
        )
        refs = _ExternalIds(system, "invoice", [specs[index].external_id for index in headers])
        built: dict[int, tuple[Invoice, list[dict[str, Any]]]] = {}
        links: dict[int, str] = {}
        for index, (legal_entity, currency, due_date) in headers.items():
            spec = specs[index]
            if (legal_entity.pk, spec.number) in taken:
                result.rejected[index] = billing.invoice_number_taken(legal_entity, spec.number)
                continue
            try:
                made = billing.invoice_draft(
                    number=spec.number,
                    customer=spec.customer,
                    contract=spec.contract,
                    legal_entity=legal_entity,
                    currency=currency,
                    issue_date=spec.issue_date,
                    due_date=due_date,
                    period_start=spec.period_start,
                    period_end=spec.period_end,
                    tax_mode=spec.tax_mode,
                    lines=list(spec.lines),
                    expected_total=spec.expected_total,
                    memo=spec.memo,
                )
                links[index] = refs.take(spec.external_id)
            except DomainValidationError as exc:
                result.rejected[index] = _errors(exc)
                continue
            built[index] = made
            taken.add((legal_entity.pk, spec.number))
    if result.rejected and not partial:
        raise BulkValidationError(result.rejected)
    _write_invoices(
        list(built.values()),
        [specs[index].issue for index in built],
        [(links[index], built[index][0]) for index in built if links[index]],
        system,
        actor,
        reason,
    )
    result.created = {index: made[0] for index, made in built.items()}
    return result


def _as_stored(invoice: Invoice) -> None:
    """Amounts as the database returns them, so events carry what a re-read would."""
    for name in ("subtotal", "tax_total", "total", "amount_paid", "amount_credited", "amount_due"):
        setattr(invoice, name, Decimal(getattr(invoice, name)).quantize(_STORED))


def _line_rows(items: list[tuple[Invoice, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Insertable rows of the saved invoices' lines (no model built for each: the
    rows are all that is written)."""
    rows = []
    for invoice, its_lines in items:
        for values in its_lines:
            row = model_values(InvoiceLine, {**values, "invoice": invoice})
            del row["id"]
            rows.append(row)
    return rows


def _write_invoices(
    items: list[tuple[Invoice, list[dict[str, Any]]]],
    issue: list[bool],
    links: list,
    system: str,
    actor: Actor,
    reason: str,
) -> None:
    if not items:
        return
    now = timezone.now()
    issued_at = now + _ISSUED_AFTER
    invoices = [invoice for invoice, _ in items]
    ids = _pools(
        {
            Invoice: len(invoices),
            InvoiceLine: sum(len(its_lines) for _, its_lines in items),
            BusinessEvent: sum(issue),
            ExternalRef: len(links),
        }
    )
    with timed("canonical"):
        for invoice in invoices:
            _as_stored(invoice)
            invoice.created_at = invoice.updated_at = now
        drafts = model_rows(invoices)  # as created, before any is issued: what the first history row shows
        rows = []
        for invoice, draft, wanted in zip(invoices, drafts, issue, strict=True):
            if wanted:
                invoice.status = billing.issued_status(invoice)
                invoice.updated_at = issued_at
                rows.append({**draft, "status": invoice.status, "updated_at": issued_at})
            else:
                rows.append(draft)
    rows_insert(Invoice, rows, ids=ids.get(Invoice, True))  # the rows go in as they end up
    for invoice, draft, row in zip(invoices, drafts, rows, strict=True):
        invoice.pk = draft["id"] = row["id"]
        invoice._state.adding = False
    # The drafts differ from the rows written only in what the issue changed.
    history_insert(
        Invoice,
        drafts,
        history_type="+",
        actor=actor,
        reason=reason,
        when=now,
        differs=("status", "updated_at"),
    )
    with timed("canonical"):
        line_rows = _line_rows(items)
    rows_insert(InvoiceLine, line_rows, ids=ids.get(InvoiceLine, True))
    history_insert(InvoiceLine, line_rows, history_type="+", actor=actor, reason=reason, when=now)
    issued = [invoice for invoice, wanted in zip(invoices, issue, strict=True) if wanted]
    issued_rows = [row for row, wanted in zip(rows, issue, strict=True) if wanted]
    history_insert(
        Invoice, issued_rows, history_type="~", actor=actor, reason="Invoice issued", when=issued_at
    )
    events_insert(
        type="invoice.issued",
        subjects=[(inv, billing.issued_event_payload(inv), inv.correlation_id) for inv in issued],
        actor=actor,
        when=issued_at,
        ids=ids.get(BusinessEvent, True),
    )
    _link(system, "invoice", links, actor, reason, now, ids.get(ExternalRef, True))
