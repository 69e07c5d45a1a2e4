"""The billing cutoff of usage: is a usage period of a contract line still open?

The cutoff is derived from invoices, so there is no extra state to keep in step:
voiding the invoice that closed a period opens it again, and an invoice
imported from a billing system closes periods exactly like one made here.

A usage period [start, end] of contract line L is closed by an issued invoice
(open, paid or uncollectible; drafts and void invoices close nothing) of L's
contract when either
1. the invoice bills L for a service period overlapping [start, end]: a line
   naming L (or, for invoices from systems that do not name contract lines, a
   line of L's product), its period taken from the line or else the invoice; the
   latest such invoice is the one that closed it (after a credit and re-bill
   that is the re-bill); or
2. the invoice was issued after the usage period ended: usage is billed in
   arrears, so the contract's first invoice dated after the period is the one
   that billed (or should have billed) it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.functions import Coalesce

from revops.models import ContractLine, Invoice, InvoiceLine

ISSUED_STATUSES = (Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE)


@dataclass(frozen=True)
class PeriodClosure:
    """The issued invoice that closed a usage period, and its lines billing the
    contract line for that period (none when it closed it by its date alone)."""

    invoice: Invoice
    lines: list[InvoiceLine] = field(default_factory=list)

    @property
    def why(self) -> str:
        if self.lines:
            return f"it billed this line for the period on {self.invoice.issue_date}"
        return f"it was issued on {self.invoice.issue_date}, after the period ended"


def lines_billing(contract_line: ContractLine, period_start: dt.date, period_end: dt.date):
    """Issued invoice lines of the line's contract that bill the line for a
    service period overlapping [period_start, period_end]."""
    same_line = Q(contract_line=contract_line) | Q(
        contract_line__isnull=True, product_id=contract_line.product_id
    )
    return (
        InvoiceLine.objects.filter(
            invoice__contract_id=contract_line.contract_id, invoice__status__in=ISSUED_STATUSES
        )
        .filter(same_line)
        .annotate(
            service_start=Coalesce("period_start", "invoice__period_start"),
            service_end=Coalesce("period_end", "invoice__period_end"),
        )
        .filter(service_start__lte=period_end, service_end__gte=period_start)
        .select_related("invoice")
        .order_by("-invoice__issue_date", "-invoice_id", "line_number")
    )


def usage_period_closure(
    *, contract_line: ContractLine, period_start: dt.date, period_end: dt.date
) -> PeriodClosure | None:
    """The invoice that closed this usage period for this line, or None while it is open."""
    billed = list(lines_billing(contract_line, period_start, period_end))
    if billed:
        latest = billed[0].invoice_id
        return PeriodClosure(billed[0].invoice, [line for line in billed if line.invoice_id == latest])
    invoice = (
        Invoice.objects.filter(
            contract_id=contract_line.contract_id, status__in=ISSUED_STATUSES, issue_date__gt=period_end
        )
        .order_by("issue_date", "id")
        .first()
    )
    return PeriodClosure(invoice) if invoice is not None else None
