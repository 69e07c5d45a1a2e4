"""Credit notes issued on their own, posted to the ERP as credit memos.

A credit note revops records (from a billing source, or by the credit note
service) reduces what its invoice's customer owes, so the ERP's receivable must
fall by the same amount: it is posted as a NetSuite `creditMemo` created from
the invoice and applied to it. Every credit note references its invoice, so the
memo waits (a transient wait, retried with backoff) until that invoice is
posted, and is not posted at all when the invoice never was meant for this ERP
(issued before the connector existed).

The memo goes through the same OutboundPosting path as invoices and payments:
idempotency key per (credit note, revision, action), external id
`CM-<entity>-<credit note number>` looked up before any repeat, and a business
rejection becomes an ERP_REJECTED item. A void of a whole invoice is not a
credit note here: it is posted by `connectors.posting` as the invoice's
`…-VOID` memo.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.erp import mapping
from revops.models import CreditNote, Invoice

ZERO = Decimal("0")
EVENT_TYPE = "credit_note.issued"


def credit_memo_external_id(note: CreditNote) -> str:
    return f"CM-{note.legal_entity.code}-{note.number}"


def _line_item(line, settings: mapping.ErpSettings, note: CreditNote) -> dict[str, Any]:
    source = line.invoice_line
    net = mapping._net(line.amount, line.tax_amount, note.tax_mode)
    if source is not None:
        item = mapping.item_id(settings, source.product.sku if source.product_id else "")
        code = mapping.tax_code(settings, jurisdiction=source.tax_jurisdiction, rate=source.tax_rate)
    else:
        # A line that credits no particular invoice line: the default item, the tax code of its own rate.
        rate = (line.tax_amount * 100 / net).quantize(Decimal("0.01")) if net else ZERO
        item = settings.require("default_item_id", "default item id")
        code = mapping.tax_code(settings, jurisdiction="", rate=rate)
    return {
        "item": {"id": item},
        "description": line.description[:300],
        "quantity": Decimal("1"),
        "amount": net,
        "taxCode": {"id": code},
        "tax1Amt": line.tax_amount,
    }


def credit_memo_record(
    note: CreditNote, settings: mapping.ErpSettings, *, customer_id: str, invoice_erp_id: str
) -> dict[str, Any]:
    """The NetSuite credit memo of `note`, created from its posted invoice and applied to it."""
    lines = note.lines.select_related("invoice_line", "invoice_line__product")
    return {
        "externalId": credit_memo_external_id(note),
        "tranId": note.number,
        "entity": {"id": customer_id},
        "subsidiary": {"id": settings.require("subsidiary_id", "subsidiary id")},
        "account": {"id": settings.require("ar_account_id", "AR account id")},
        "currency": {"refName": note.currency},
        "tranDate": note.issue_date,
        "createdFrom": {"id": invoice_erp_id},
        "memo": f"Credit note {note.number} on {note.invoice.number}: {note.reason}"[:999],
        "item": {"items": [_line_item(line, settings, note) for line in lines]},
        "apply": {"items": [{"doc": {"id": invoice_erp_id}, "apply": True, "amount": note.total}]},
    }


def post_credit_note(connector, note: CreditNote) -> None:
    """Inside the credit note's transaction: its posting to `connector`, when its invoice goes there."""
    from connectors import posting
    from connectors.models import OutboundPosting

    invoice = note.invoice
    if not posting._document_postings(connector, invoice, OutboundPosting.Action.CREATE).exists():
        return  # the invoice was never meant for this ERP, so neither is its credit
    posting.posting_create(
        connector=connector,
        document=note,
        action=OutboundPosting.Action.CREATE,
        revision=1,
        record_type="creditMemo",
        external_id=credit_memo_external_id(note),
        correlation_id=note.correlation_id,
    )


def build_credit_memo(posting, client, note: CreditNote) -> dict[str, Any]:
    """The request body for a credit note's posting (the worker, with the ERP mapping)."""
    from connectors import posting as p

    connector = posting.connector
    erp = p.erp_settings(connector)
    customer_id = p._customer_erp_id(client, connector, note.customer, erp)
    invoice: Invoice = note.invoice
    invoice_erp_id = p._posted_erp_id(connector, invoice, f"Invoice {invoice.number}")
    return credit_memo_record(note, erp, customer_id=customer_id, invoice_erp_id=invoice_erp_id)
