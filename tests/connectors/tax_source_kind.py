"""A connector kind serving invoices with taxed lines from memory, for the tax check.

Payloads: {"id", "name", "currency", "address": {line1, city, region,
postal_code, country}} for customers; for invoices {"id",
"number", "customer", "currency", "tax_mode", "status", "lines": [{"amount",
"tax", "jurisdiction"}]}, the total being computed from the lines as the
source would state it. Invoices are issued on 2026-03-01.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from connectors import records as r
from connectors.base import ConnectorKind, Page, RawRecord, register_kind


@register_kind
class TaxSourceKind(ConnectorKind):
    key = "taxsource"
    label = "Taxed invoices from memory (tests)"
    streams = ("customer", "invoice")
    needs_base_url = False
    page_size: ClassVar[int] = 10
    source: ClassVar[dict[str, list[dict[str, Any]]]] = {"customer": [], "invoice": []}

    @classmethod
    def reset(cls) -> None:
        cls.source = {"customer": [], "invoice": []}

    def test_connection(self) -> str:
        return "memory source answers"

    def fetch(self, stream: str, cursor: dict | None, *, full: bool) -> Page:
        offset = 0  # every run reads everything: redeliveries are the point
        items = self.source[stream][offset : offset + self.page_size]
        records = [RawRecord(stream, item["id"], item, source_type=stream) for item in items]
        return Page(records, {"offset": len(items)}, done=True)

    def map(self, raw: RawRecord):
        p = raw.payload
        if raw.object_type == "customer":
            return r.CustomerRecord(
                external_id=p["id"],
                name=p["name"],
                currency=p.get("currency"),
                address=r.Address(**p.get("address", {})),
            )
        mode = p.get("tax_mode", "exclusive")
        lines = tuple(
            r.InvoiceLineRecord(
                description=f"Line {i}",
                quantity=Decimal(1),
                unit_amount=Decimal(line["amount"]),
                amount=Decimal(line["amount"]),
                tax_amount=Decimal(line["tax"]),
                tax_jurisdiction=line.get("jurisdiction", ""),
            )
            for i, line in enumerate(p["lines"], start=1)
        )
        subtotal = sum((line.amount for line in lines), Decimal(0))
        tax = sum((line.tax_amount for line in lines), Decimal(0))
        return r.InvoiceRecord(
            external_id=p["id"],
            number=p["number"],
            customer_external_id=p["customer"],
            currency=p["currency"],
            status=p.get("status", "open"),
            tax_mode=mode,
            issue_date=dt.date(2026, 3, 1),
            due_date=dt.date(2026, 3, 31),
            subtotal=subtotal,
            tax_total=tax,
            total=subtotal if mode == "inclusive" else subtotal + tax,
            amount_paid=Decimal(0),
            lines=lines,
        )
