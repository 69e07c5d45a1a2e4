"""Canonical documents → NetSuite REST record JSON (pure functions).

Per legal entity an admin sets, on the connector's ERP mapping:
subsidiary id, AR account id, cash (undeposited funds) account id, tax codes
(by jurisdiction, then by rate, then "default") and item ids (by product SKU,
then a default item for lines without a product). A setting a document needs
and the mapping lacks is a BusinessError naming the setting, so the posting
becomes an ERP_REJECTED item an admin can fix and resubmit.

External ids (NetSuite `externalId`) are derived from the document, never from
the attempt, so the lookup before a repost finds what an earlier attempt made:
invoice `INV-<entity>-<number>`, its void `…-VOID`, customer `CUS-<number>`,
payment application `PAY-<payment number>-<application id>`, its reversal `…-REV`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.errors import BusinessError

ZERO = Decimal("0")


@dataclass(frozen=True)
class ErpSettings:
    subsidiary_id: str = ""
    ar_account_id: str = ""
    cash_account_id: str = ""
    tax_codes: dict[str, str] = field(default_factory=dict)
    item_ids: dict[str, str] = field(default_factory=dict)
    default_item_id: str = ""

    def require(self, name: str, label: str) -> str:
        value = str(getattr(self, name) or "").strip()
        if not value:
            raise _missing(name, f"the ERP mapping has no {label}")
        return value


def _missing(setting: str, message: str, **extra: Any) -> BusinessError:
    return BusinessError(
        f"Cannot post to NetSuite: {message}. Set it in the connector's ERP mapping.",
        code="ERP_REJECTED",
        field=setting,
        path=setting,
        details={"setting": setting, **extra},
    )


def _rate_key(rate: Decimal) -> str:
    text = format(Decimal(rate).normalize(), "f")
    return text


def tax_code(settings: ErpSettings, *, jurisdiction: str, rate: Decimal) -> str:
    codes = {str(k).strip(): str(v).strip() for k, v in (settings.tax_codes or {}).items()}
    for key in (jurisdiction.strip(), _rate_key(rate), "default"):
        if key and codes.get(key):
            return codes[key]
    raise _missing(
        "tax_codes",
        f"the ERP mapping has no tax code for jurisdiction {jurisdiction or '(none)'} or rate {_rate_key(rate)} %",
        jurisdiction=jurisdiction,
        rate=_rate_key(rate),
    )


def item_id(settings: ErpSettings, sku: str) -> str:
    items = {str(k).strip(): str(v).strip() for k, v in (settings.item_ids or {}).items()}
    if sku and items.get(sku):
        return items[sku]
    if settings.default_item_id:
        return settings.default_item_id
    raise _missing(
        "item_ids", f"the ERP mapping has no item id for SKU {sku or '(a line without a product)'}", sku=sku
    )


def customer_external_id(customer) -> str:
    return f"CUS-{customer.number}"


def invoice_external_id(invoice) -> str:
    return f"INV-{invoice.legal_entity.code}-{invoice.number}"


def application_external_id(application) -> str:
    return f"PAY-{application.payment.number}-{application.pk}"


def customer_record(customer, settings: ErpSettings) -> dict[str, Any]:
    record = {
        "externalId": customer_external_id(customer),
        "entityId": customer.number,
        "companyName": customer.name,
        "isPerson": False,
        "subsidiary": {"id": settings.require("subsidiary_id", "subsidiary id")},
        "currency": {"refName": customer.currency},
    }
    if customer.tax_id:
        record["vatRegNumber"] = customer.tax_id
    return record


def _net(amount: Decimal, tax: Decimal, tax_mode: str) -> Decimal:
    return amount - tax if tax_mode == "inclusive" else amount


def invoice_lines(invoice, settings: ErpSettings) -> list[dict[str, Any]]:
    """NetSuite item lines: net amounts, with the tax code each line's jurisdiction or rate maps to."""
    lines = []
    for line in invoice.lines.all():
        lines.append(
            {
                "item": {"id": item_id(settings, line.product.sku if line.product_id else "")},
                "description": line.description[:300],
                "quantity": line.quantity,
                "amount": _net(line.amount, line.tax_amount, invoice.tax_mode),
                "taxCode": {"id": tax_code(settings, jurisdiction=line.tax_jurisdiction, rate=line.tax_rate)},
                "tax1Amt": line.tax_amount,
            }
        )
    if not lines:  # a header-only invoice (imported totals): one line for the whole net amount
        net = invoice.total - invoice.tax_total
        rate = (invoice.tax_total * 100 / net).quantize(Decimal("0.01")) if net else ZERO
        lines.append(
            {
                "item": {"id": settings.require("default_item_id", "default item id")},
                "description": f"Invoice {invoice.number}",
                "quantity": Decimal("1"),
                "amount": net,
                "taxCode": {"id": tax_code(settings, jurisdiction="", rate=rate)},
                "tax1Amt": invoice.tax_total,
            }
        )
    return lines


def invoice_record(invoice, settings: ErpSettings, *, customer_id: str) -> dict[str, Any]:
    return {
        "externalId": invoice_external_id(invoice),
        "tranId": invoice.number,
        "entity": {"id": customer_id},
        "subsidiary": {"id": settings.require("subsidiary_id", "subsidiary id")},
        "account": {"id": settings.require("ar_account_id", "AR account id")},
        "currency": {"refName": invoice.currency},
        "tranDate": invoice.issue_date,
        "dueDate": invoice.due_date,
        "memo": invoice.memo or f"revops {invoice.correlation_id}",
        "item": {"items": invoice_lines(invoice, settings)},
    }


def invoice_void_record(
    invoice, settings: ErpSettings, *, customer_id: str, invoice_erp_id: str
) -> dict[str, Any]:
    """The credit memo that reverses a posted invoice, applied to it in full."""
    return {
        "externalId": invoice_external_id(invoice) + "-VOID",
        "entity": {"id": customer_id},
        "subsidiary": {"id": settings.require("subsidiary_id", "subsidiary id")},
        "account": {"id": settings.require("ar_account_id", "AR account id")},
        "currency": {"refName": invoice.currency},
        "createdFrom": {"id": invoice_erp_id},
        "memo": f"Void of {invoice.number}",
        "item": {"items": invoice_lines(invoice, settings)},
        "apply": {"items": [{"doc": {"id": invoice_erp_id}, "apply": True, "amount": invoice.total}]},
    }


def payment_record(
    application,
    settings: ErpSettings,
    *,
    customer_id: str,
    invoice_erp_id: str,
    amount: Decimal | None = None,
) -> dict[str, Any]:
    """A customer payment applied to the posted invoice: the application's amount,
    or `amount` for a later top-up of the same application."""
    payment = application.payment
    amount = application.amount if amount is None else amount
    return {
        "externalId": application_external_id(application),
        "customer": {"id": customer_id},
        "subsidiary": {"id": settings.require("subsidiary_id", "subsidiary id")},
        "aracct": {"id": settings.require("ar_account_id", "AR account id")},
        "account": {"id": settings.require("cash_account_id", "cash account id")},
        "currency": {"refName": payment.currency},
        "tranDate": application.applied_date,
        "payment": amount,
        "memo": f"{payment.number} to {application.invoice.number}",
        "apply": {"items": [{"doc": {"id": invoice_erp_id}, "apply": True, "amount": amount}]},
    }


def payment_reversal_record(application, settings: ErpSettings, *, customer_id: str) -> dict[str, Any]:
    """A journal entry that puts the applied cash back on the customer's receivable."""
    payment = application.payment
    ar = settings.require("ar_account_id", "AR account id")
    cash = settings.require("cash_account_id", "cash account id")
    when = application.reversed_at.date() if application.reversed_at else application.applied_date
    return {
        "externalId": application_external_id(application) + "-REV",
        "subsidiary": {"id": settings.require("subsidiary_id", "subsidiary id")},
        "currency": {"refName": payment.currency},
        "tranDate": when,
        "memo": f"Reversal of {payment.number} on {application.invoice.number}",
        "line": {
            "items": [
                {"account": {"id": ar}, "debit": application.amount, "entity": {"id": customer_id}},
                {"account": {"id": cash}, "credit": application.amount},
            ]
        },
    }
