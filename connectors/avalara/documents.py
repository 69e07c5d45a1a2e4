"""Canonical invoices → the committed AvaTax documents that report their tax. Pure.

An invoice is committed to the tax engine when it is issued: a `SalesInvoice`
created with `commit: true` under a code derived from the invoice
(`revops-<entity>-<number>`), so every later change names the same document.
While the invoice stands, each credit note issued against it amends what was
sold: the document is adjusted (AdjustTransaction, reason `PriceAdjusted`) to
the invoice's lines followed by one negative line per credited line, so the tax
AvaTax reports is the tax on what the customer finally owes for. Voiding the
invoice voids the document (VoidTransaction, `DocVoided`).
"""

from __future__ import annotations

from typing import Any

from connectors.avalara.mapping import DEFAULT_COMPANY_CODE, address_of
from connectors.errors import BusinessError

CODE_LIMIT = 50  # AvaTax's limit on a transaction code and on a line number


def document_code(invoice) -> str:
    return f"revops-{invoice.legal_entity.code}-{invoice.number}"[:CODE_LIMIT]


def company_code(credentials: dict[str, Any]) -> str:
    return str(credentials.get("company_code", "") or "") or DEFAULT_COMPANY_CODE


def _address(customer) -> dict[str, str]:
    address = address_of(
        line1=customer.address_line1,
        city=customer.city,
        region=customer.region,
        postal_code=customer.postal_code,
        country=customer.country,
    )
    if address is None:
        raise BusinessError(
            f"Customer {customer.number} ({customer.name}) has no address the tax engine can place: "
            "it needs a country and a postal code or region. Add them to the customer, then resubmit.",
            code="VALIDATION_FAILED",
            field="customer.address",
            subject=customer,
        )
    return address


def _invoice_lines(invoice, inclusive: bool) -> list[dict[str, Any]]:
    lines = [
        {
            "number": str(line.line_number),
            "quantity": line.quantity,
            "amount": line.amount,
            "taxIncluded": inclusive,
            "itemCode": (line.product.sku if line.product_id else "")[:50],
            "description": line.description[:255],
        }
        for line in invoice.lines.select_related("product").order_by("line_number")
    ]
    if not lines:  # a header-only invoice (imported totals): one line for its whole amount
        amount = invoice.total if inclusive else invoice.total - invoice.tax_total
        lines.append(
            {
                "number": "1",
                "quantity": 1,
                "amount": amount,
                "taxIncluded": inclusive,
                "description": f"Invoice {invoice.number}",
            }
        )
    return lines


def _credit_lines(credit_notes, inclusive: bool) -> list[dict[str, Any]]:
    lines = []
    for note in credit_notes:
        for line in note.lines.order_by("line_number"):
            lines.append(
                {
                    "number": f"{note.number}-{line.line_number}"[:CODE_LIMIT],
                    "quantity": 1,
                    "amount": -line.amount,
                    "taxIncluded": inclusive,
                    "description": f"Credit note {note.number}: {line.description}"[:255],
                }
            )
    return lines


def committed_model(invoice, *, company: str, credit_notes=()) -> dict[str, Any]:
    """The SalesInvoice that reports `invoice`'s tax, net of `credit_notes`."""
    inclusive = invoice.tax_mode == "inclusive"
    customer = invoice.customer
    model: dict[str, Any] = {
        "type": "SalesInvoice",
        "code": document_code(invoice),
        "companyCode": company,
        "date": invoice.issue_date.isoformat(),
        "customerCode": customer.number,
        "purchaseOrderNo": invoice.number,
        "addresses": {"SingleLocation": _address(customer)},
        "lines": _invoice_lines(invoice, inclusive) + _credit_lines(credit_notes, inclusive),
        "commit": True,
        "currencyCode": invoice.currency,
        "description": f"revops invoice {invoice.number}"[:255],
    }
    if customer.tax_exempt and customer.exemption_certificate:
        model["exemptionNo"] = customer.exemption_certificate[:25]
    return model


def adjustment_description(credit_notes) -> str:
    numbers = ", ".join(note.number for note in credit_notes)
    return f"Credited by {numbers}" if numbers else "Credit notes withdrawn"
