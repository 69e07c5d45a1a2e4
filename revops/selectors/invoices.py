"""Invoices: the list with filters, and the detail page with lines, credits and
payment applications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from revops.models import (
    BusinessEvent,
    CreditNote,
    CreditNoteLine,
    ExternalRef,
    Invoice,
    InvoiceLine,
    PaymentApplication,
)
from revops.selectors.search import document_search, external_refs_for

INVOICE_SORTS: dict[str, tuple[str, ...]] = {
    "-issue_date": ("-issue_date", "-id"),
    "issue_date": ("issue_date", "id"),
    "due_date": ("due_date", "id"),
    "-due_date": ("-due_date", "-id"),
    "number": ("number",),
    "-number": ("-number",),
}
INVOICE_DEFAULT_SORT = "-issue_date"
EVENTS_SHOWN = 50


def invoice_list(
    *,
    q: str = "",
    status: str = "",
    legal_entity_id: int | None = None,
    customer_id: int | None = None,
    contract_id: int | None = None,
    currency: str = "",
    issued_from: dt.date | None = None,
    issued_to: dt.date | None = None,
    overdue_on: dt.date | None = None,
    sort: str = INVOICE_DEFAULT_SORT,
) -> QuerySet[Invoice]:
    """`overdue_on`: only open invoices due before that day."""
    qs = Invoice.objects.select_related("customer", "legal_entity")
    if status:
        qs = qs.filter(status=status)
    if legal_entity_id:
        qs = qs.filter(legal_entity_id=legal_entity_id)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if contract_id:
        qs = qs.filter(contract_id=contract_id)
    if currency:
        qs = qs.filter(currency=currency)
    if issued_from:
        qs = qs.filter(issue_date__gte=issued_from)
    if issued_to:
        qs = qs.filter(issue_date__lte=issued_to)
    if overdue_on:
        qs = qs.filter(status=Invoice.Status.OPEN, due_date__lt=overdue_on)
    if q:
        qs = qs.filter(document_search(Invoice, q))
    return qs.order_by(*INVOICE_SORTS.get(sort, INVOICE_SORTS[INVOICE_DEFAULT_SORT]))


@dataclass
class InvoiceDetail:
    invoice: Invoice
    lines: list[InvoiceLine]
    credit_notes: list[CreditNote]
    applications: list[PaymentApplication]
    events: list[BusinessEvent]
    external_refs: list[ExternalRef]


def events_for_correlation(correlation_id) -> list[BusinessEvent]:
    """The quote-to-cash trail: every business event sharing a correlation id."""
    if correlation_id is None:
        return []
    return list(
        BusinessEvent.objects.filter(correlation_id=correlation_id).order_by("occurred_at", "id")[
            :EVENTS_SHOWN
        ]
    )


def invoice_detail(invoice_id: int) -> InvoiceDetail:
    """Raises Invoice.DoesNotExist."""
    invoice = Invoice.objects.select_related("customer", "contract", "legal_entity").get(pk=invoice_id)
    lines = list(invoice.lines.select_related("product", "contract_line").order_by("line_number"))
    credit_notes = list(
        invoice.credit_notes.order_by("issue_date", "id").prefetch_related(
            Prefetch("lines", queryset=CreditNoteLine.objects.order_by("line_number"))
        )
    )
    applications = list(invoice.applications.select_related("payment").order_by("applied_date", "id"))
    return InvoiceDetail(
        invoice=invoice,
        lines=lines,
        credit_notes=credit_notes,
        applications=applications,
        events=events_for_correlation(invoice.correlation_id),
        external_refs=external_refs_for(invoice),
    )
