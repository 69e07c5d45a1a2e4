"""manage.py demo_problems: fill the demo's exception queue the way production does.

Imports two small CSV files through a file-import connector "billing-csv" on the
demo's US01 entity, exactly as an upload in the browser would: invoices (most
fine; some with tax that differs from the Irvine rate table, customers revops
does not know, or lines that do not add up to the stated total) and usage
(events for a month the demo's invoices have already billed, which arrive late,
and for contracts that do not exist or have no such line). Every problem row
becomes an exception item through the real pipeline, routed by the demo's
routing rules. The rows are built from the demo data, so they are the same on
every load; running it again finds the files imported and changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from connectors.files import services
from connectors.models import ColumnMapping, Connector, FileImport
from connectors.services import connector_save
from revops.actors import Actor
from revops.models import Contract, Customer, LegalEntity

CONNECTOR = "billing-csv"
REASON = "Demo: CSV imports from the billing export"
IRVINE = "US-CA-92615"  # 7.75 % in the demo's tax rate table

INVOICE_COLUMNS = {
    "number": "Invoice",
    "customer_number": "Customer",
    "issue_date": "Date",
    "due_date": "Due",
    "currency": "Currency",
    "description": "Description",
    "quantity": "Qty",
    "unit_amount": "Unit price",
    "tax_amount": "Tax",
    "tax_jurisdiction": "Jurisdiction",
    "total": "Total",
}
USAGE_COLUMNS = {
    "event_id": "Event",
    "contract_number": "Contract",
    "product_sku": "SKU",
    "quantity": "Units",
    "timestamp": "At",
}


class Command(BaseCommand):
    help = "Import the demo's problem CSV files through the pipeline (idempotent)."

    def handle(self, *args, **options):
        entity = LegalEntity.objects.filter(code="US01").first()
        customers = list(Customer.objects.filter(legal_entity=entity, currency="USD").order_by("number")[:12])
        if entity is None or len(customers) < 12:
            raise CommandError("Load the demo data first (manage.py load_demo).")
        actor = Actor.for_system("revops", "demo loader")
        connector = Connector.objects.filter(name=CONNECTOR).first() or connector_save(
            values={"name": CONNECTOR, "kind": "file", "legal_entity": entity, "enabled": True},
            actor=actor,
            reason=REASON,
        )
        summary = {
            "invoices": self._import(
                connector, "invoice", INVOICE_COLUMNS, "billing-invoices.csv", _invoices(customers), actor
            ),
            "usage": self._import(
                connector, "usage", USAGE_COLUMNS, "metering-usage.csv", _usage(entity), actor
            ),
        }
        self.stdout.write(json.dumps(summary))

    def _import(self, connector, object_type, columns, file_name, rows, actor) -> dict:
        mapping = ColumnMapping.objects.filter(connector=connector, object_type=object_type).first()
        if mapping is None:
            mapping = services.mapping_save(
                connector=connector,
                object_type=object_type,
                name="Billing export",
                columns=columns,
                actor=actor,
                reason=REASON,
            )
        content = _csv(list(columns.values()), rows)
        if FileImport.objects.filter(
            connector=connector, sha256=hashlib.sha256(content).hexdigest()
        ).exists():
            return {"skipped": f"{file_name} was imported already"}
        checked = services.import_check(file_name=file_name, content=content, mapping=mapping)
        upload = services.import_start(
            connector=connector, mapping=mapping, checked=checked, requested_by="demo loader"
        )
        upload = services.import_run(upload.pk)
        run = upload.run
        return {
            "read": run.read,
            "created": run.created,
            "unchanged": run.unchanged,
            "business_errors": run.business_errors,
        }


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _invoices(customers: list[Customer]) -> list[list[str]]:
    rows = []

    def invoice(
        number,
        customer,
        day,
        unit,
        tax,
        total=None,
        jurisdiction=IRVINE,
        description="Implementation services",
    ):
        amount = Decimal(unit)
        stated = total if total is not None else str(amount + Decimal(tax))
        rows.append(
            [
                number,
                customer,
                f"2026-10-{day:02d}",
                f"2026-11-{day:02d}",
                "USD",
                description,
                "1",
                unit,
                tax,
                jurisdiction,
                stated,
            ]
        )

    # Correct tax (7.75 % in Irvine): imported without a fuss.
    for n, customer in enumerate(customers[:6], start=1):
        unit = Decimal(400 + 125 * n).quantize(Decimal("0.01"))
        invoice(
            f"CSV-{1000 + n}",
            customer.number,
            n,
            str(unit),
            str((unit * Decimal("0.0775")).quantize(Decimal("0.01"))),
        )
    # Tax charged at the old base rate (7.25 %): TAX_MISMATCH, one above 1,000 USD for the urgent rule.
    invoice("CSV-1101", customers[6].number, 7, "880.00", "63.80")
    invoice("CSV-1102", customers[7].number, 8, "1240.00", "89.90")
    invoice("CSV-1103", customers[8].number, 9, "15800.00", "1145.50")
    # Customers the billing system knows but revops does not: UNKNOWN_CUSTOMER.
    invoice("CSV-1201", "C-NEW-0042", 10, "300.00", "23.25")
    invoice("CSV-1202", "C-NEW-0043", 11, "950.00", "73.63")
    # A stated total the lines do not add up to: AMOUNT_MISMATCH.
    invoice("CSV-1301", customers[9].number, 12, "500.00", "38.75", total="583.75")
    return rows


def _usage(entity: LegalEntity) -> list[list[str]]:
    active = list(
        Contract.objects.filter(customer__legal_entity=entity, status="active").order_by("number")[:2]
    )
    ended = (
        Contract.objects.filter(customer__legal_entity=entity)
        .exclude(status__in=["active", "draft"])
        .order_by("number")
        .first()
    )
    rows = []
    for n, contract in enumerate(active):
        line = contract.lines.filter(product__isnull=False).select_related("product").order_by("id").first()
        if line is not None:
            rows.append([f"evt-demo-{n}", contract.number, line.product.sku, "125", "2026-10-15T09:00:00Z"])
    rows.append(["evt-demo-90", "K-UNKNOWN-7", "API-CALLS", "5000", "2026-10-15T10:00:00Z"])
    if ended is not None:
        line = ended.lines.filter(product__isnull=False).select_related("product").order_by("id").first()
        if line is not None:
            rows.append(["evt-demo-91", ended.number, line.product.sku, "40", "2026-10-16T10:00:00Z"])
    return rows
