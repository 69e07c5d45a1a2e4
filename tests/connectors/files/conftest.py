"""Fixtures for file imports: a file-import connector, mappings, and a helper
that runs an import the way the upload page and the command do."""

from __future__ import annotations

import pytest

from connectors.files import services
from connectors.files.kind import FileKind
from connectors.models import Connector
from connectors.resubmit import register_kind_handlers
from revops.actors import Actor
from tests import factories as f

register_kind_handlers(FileKind)

ADMIN = Actor.for_system("tests", "file import tests")

CUSTOMER_COLUMNS = {
    "number": "Customer No",
    "name": "Company",
    "currency": "Currency",
    "email": "Email",
    "city": "City",
    "country": "Country",
}
CONTRACT_COLUMNS = {
    "number": "Contract",
    "customer_number": "Customer",
    "start_date": "Start",
    "end_date": "End",
    "billing_frequency": "Billing",
    "currency": "Currency",
    "product_sku": "SKU",
    "quantity": "Qty",
    "unit_price": "Price",
}
INVOICE_COLUMNS = {
    "number": "Invoice",
    "customer_number": "Customer",
    "issue_date": "Date",
    "due_date": "Due",
    "currency": "Currency",
    "description": "Description",
    "quantity": "Qty",
    "unit_amount": "Unit",
    "tax_rate": "VAT %",
    "total": "Total",
}
PAYMENT_COLUMNS = {
    "reference": "Reference",
    "customer_number": "Customer",
    "amount": "Amount",
    "currency": "Currency",
    "received_date": "Received",
    "method": "Method",
    "invoice_number": "Invoice",
}
USAGE_COLUMNS = {
    "event_id": "Event",
    "contract_number": "Contract",
    "product_sku": "SKU",
    "quantity": "Units",
    "timestamp": "At",
}
COLUMNS = {
    "customer": CUSTOMER_COLUMNS,
    "contract": CONTRACT_COLUMNS,
    "invoice": INVOICE_COLUMNS,
    "payment": PAYMENT_COLUMNS,
    "usage": USAGE_COLUMNS,
}


@pytest.fixture
def legal_entity(db):
    return f.LegalEntityFactory()


@pytest.fixture
def file_connector(legal_entity):
    return Connector.objects.create(name="crm-files", kind="file", legal_entity=legal_entity)


@pytest.fixture
def make_mapping(file_connector):
    def make(object_type: str, name: str = "default", **options):
        return services.mapping_save(
            connector=file_connector,
            object_type=object_type,
            name=name,
            columns=COLUMNS[object_type],
            actor=ADMIN,
            reason="test mapping",
            **options,
        )

    return make


@pytest.fixture
def run_import(file_connector, make_mapping):
    """Import `text` as a CSV of `object_type` (making the default mapping once);
    returns the finished FileImport."""
    mappings = {}

    def run(object_type: str, text: str, *, name: str = "upload.csv", mapping=None, encoding="utf-8"):
        if mapping is None:
            mapping = mappings.get(object_type) or make_mapping(object_type)
            mappings[object_type] = mapping
        content = text.encode(encoding) if isinstance(text, str) else text
        checked = services.import_check(file_name=name, content=content, mapping=mapping)
        upload = services.import_start(
            connector=file_connector, mapping=mapping, checked=checked, requested_by="tests"
        )
        return services.import_run(upload.pk)

    return run


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"
