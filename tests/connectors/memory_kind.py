"""A connector kind that serves records from memory, for testing the engine.

Payloads are plain dicts: {"id": ..., "name": ..., "currency": ...} for
customers, {"id", "number", "customer", "currency", "total", "tax", "version"}
for invoices. `MemoryKind.failures` is a list of exceptions the next fetches
raise, in order, before serving pages.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from connectors import records as r
from connectors.base import ConnectorKind, Page, RawRecord, register_kind


@register_kind
class MemoryKind(ConnectorKind):
    key = "memory"
    label = "In-memory source (tests)"
    streams = ("customer", "invoice")
    needs_base_url = False
    page_size: ClassVar[int] = 2
    source: ClassVar[dict[str, list[dict[str, Any]]]] = {"customer": [], "invoice": []}
    failures: ClassVar[list[Exception]] = []
    fetches: ClassVar[list[tuple[str, dict | None]]] = []

    @classmethod
    def reset(cls) -> None:
        cls.source = {"customer": [], "invoice": []}
        cls.failures = []
        cls.fetches = []

    def test_connection(self) -> str:
        return "memory source answers"

    def fetch(self, stream: str, cursor: dict | None, *, full: bool) -> Page:
        self.fetches.append((stream, cursor))
        if self.failures:
            raise self.failures.pop(0)
        offset = (cursor or {}).get("offset", 0)
        items = self.source[stream][offset : offset + self.page_size]
        records = [
            RawRecord(stream, item["id"], item, source_type=stream, version=item.get("version", ""))
            for item in items
        ]
        end = offset + len(items)
        return Page(records, {"offset": end}, done=end >= len(self.source[stream]))

    def map(self, raw: RawRecord):
        p = raw.payload
        if raw.object_type == "customer":
            if not p.get("name"):
                raise r.MappingError(
                    f"Customer {raw.external_id} has no name.", field="name", actual=p.get("name")
                )
            return r.CustomerRecord(external_id=p["id"], name=p["name"], currency=p.get("currency"))
        total = Decimal(str(p["total"]))
        tax = Decimal(str(p.get("tax", "0")))
        line = r.InvoiceLineRecord("Service", Decimal(1), total - tax, total - tax, tax_amount=tax)
        return r.InvoiceRecord(
            external_id=p["id"],
            number=p["number"],
            customer_external_id=p["customer"],
            currency=p["currency"],
            status=p.get("status", "open"),
            tax_mode="exclusive",
            issue_date=dt.date(2026, 3, 1),
            due_date=dt.date(2026, 3, 31),
            subtotal=total - tax,
            tax_total=tax,
            total=Decimal(str(p.get("stated_total", total))),
            amount_paid=Decimal(0),
            lines=(line,),
            version=p.get("version", ""),
        )
