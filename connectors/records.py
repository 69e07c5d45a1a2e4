"""Vendor-neutral records: what a connector's pure mapping produces from a
vendor payload, and what the sync engine writes through the revops services.

Every record names its `external_id` in the source system; references to other
records are external ids too (the engine resolves them through ExternalRef), so
mapping never touches the database. Amounts are Decimal in major units
(12.34, not 1234 cents); dates are `datetime.date`, instants aware datetimes.
`version` orders revisions of one record (e.g. Stripe's `created` of the event,
or an `updated` timestamp): a record whose version is older than the one already
applied never regresses canonical state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2, upper case; "" when unknown


@dataclass(frozen=True)
class ContactRecord:
    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class CustomerRecord:
    external_id: str
    name: str
    currency: str | None  # ISO 4217 upper case; None when the source does not say
    email: str = ""
    address: Address = field(default_factory=Address)
    tax_id: str = ""
    tax_exempt: bool = False
    contacts: tuple[ContactRecord, ...] = ()
    deleted: bool = False
    version: str = ""


@dataclass(frozen=True)
class ProductRecord:
    external_id: str
    name: str
    sku: str  # the source's own stable id when it has no SKU
    description: str = ""
    active: bool = True
    unit_label: str = ""
    version: str = ""


@dataclass(frozen=True)
class PriceRecord:
    external_id: str
    product_external_id: str
    currency: str
    unit_amount: Decimal
    recurring_interval: str | None = None  # "month", "year", ... or None for one-time
    usage_based: bool = False
    tiers: tuple[dict, ...] = ()
    active: bool = True
    created: dt.date | None = None
    version: str = ""


@dataclass(frozen=True)
class ContractLineRecord:
    external_id: str  # e.g. the subscription item id
    product_external_id: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class ContractRecord:
    external_id: str
    customer_external_id: str
    status: str  # canonical: draft, active, cancelled, expired
    currency: str
    start_date: dt.date
    billing_frequency: str  # canonical: monthly, quarterly, annual
    lines: tuple[ContractLineRecord, ...]
    end_date: dt.date | None = None
    cancelled_at: dt.datetime | None = None
    # When a change of lines takes effect, if the source says (e.g. a CRM deal's
    # amendment date); None: today.
    effective_date: dt.date | None = None
    version: str = ""
    # When the deal behind the contract was won, if the source is a CRM that says
    # (the start of the order activation SLA).
    won_at: dt.datetime | None = None


@dataclass(frozen=True)
class InvoiceLineRecord:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal  # in the invoice's tax mode (includes tax when inclusive)
    tax_amount: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)  # percent
    tax_jurisdiction: str = ""
    product_external_id: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None


@dataclass(frozen=True)
class InvoiceRecord:
    external_id: str
    number: str
    customer_external_id: str
    currency: str
    status: str  # canonical: draft, open, paid, void, uncollectible
    tax_mode: str  # "exclusive" or "inclusive"
    issue_date: dt.date
    due_date: dt.date | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    lines: tuple[InvoiceLineRecord, ...]
    contract_external_id: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    version: str = ""


@dataclass(frozen=True)
class PaymentRecord:
    external_id: str
    amount: Decimal
    currency: str
    received_date: dt.date
    status: str  # canonical: succeeded, failed, pending, refunded
    method: str  # canonical Payment.Method value
    customer_external_id: str | None = None
    invoice_external_id: str | None = None  # the invoice it pays, when the source says
    gateway_reference: str = ""
    amount_refunded: Decimal = Decimal(0)
    version: str = ""


@dataclass(frozen=True)
class RefundRecord:
    external_id: str
    payment_external_id: str
    amount: Decimal
    currency: str
    status: str  # succeeded, pending, failed, canceled
    created: dt.date
    reason: str = ""
    version: str = ""


@dataclass(frozen=True)
class CreditNoteLineRecord:
    description: str
    amount: Decimal
    tax_amount: Decimal = Decimal(0)


@dataclass(frozen=True)
class CreditNoteRecord:
    external_id: str
    number: str
    invoice_external_id: str
    currency: str
    issue_date: dt.date
    status: str  # issued, void
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    reason: str
    lines: tuple[CreditNoteLineRecord, ...]
    version: str = ""


class MappingError(ValueError):
    """A payload that cannot be mapped: a business error for a person to fix.
    `field` is the path in the vendor payload, e.g. "lines.data[0].amount"."""

    def __init__(self, message: str, *, field: str = "", expected: object = None, actual: object = None):
        super().__init__(message)
        self.field = field
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class UsageRecordIn:
    """One metered usage event. The contract line is found by its own external id
    when the source gives one, else by contract and product (external id, or the
    revops contract number and product SKU)."""

    external_id: str  # the usage event id: usage is idempotent on (source, event id)
    contract_external_id: str
    product_external_id: str
    quantity: Decimal
    usage_at: dt.datetime
    contract_line_external_id: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    version: str = ""
