"""The canonical fields a CSV column can feed, per object type.

A column mapping names, for each field, the CSV column that holds it. The
first field of each type is its id: the row's external id in the raw store
(customer number, contract number, invoice number, payment reference, usage
event id). Rows with the same contract or invoice number are the lines of one
document.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = False
    help: str = ""


FIELDS: dict[str, tuple[Field, ...]] = {
    "customer": (
        Field("number", "Customer number", True, "The customer's id; rows are matched on it."),
        Field("name", "Name", True),
        Field("currency", "Currency", help="ISO 4217 code; empty means the legal entity's currency."),
        Field("email", "Email"),
        Field("address_line1", "Address line 1"),
        Field("address_line2", "Address line 2"),
        Field("city", "City"),
        Field("region", "Region or state"),
        Field("postal_code", "Postal code"),
        Field("country", "Country", help="ISO 3166 two-letter code, e.g. US."),
        Field("tax_id", "Tax id"),
    ),
    "contract": (
        Field("number", "Contract number", True, "Rows with the same number are the lines of one contract."),
        Field("customer_number", "Customer number", True),
        Field("start_date", "Start date", True),
        Field("end_date", "End date"),
        Field("billing_frequency", "Billing frequency", True, "monthly, quarterly or annual."),
        Field("currency", "Currency", True),
        Field("status", "Status", help="draft, active or cancelled; empty means active."),
        Field("product_sku", "Product SKU", True),
        Field("quantity", "Quantity", True),
        Field("unit_price", "Unit price", True),
    ),
    "invoice": (
        Field("number", "Invoice number", True, "Rows with the same number are the lines of one invoice."),
        Field("customer_number", "Customer number", True),
        Field("issue_date", "Issue date", True),
        Field("due_date", "Due date"),
        Field("currency", "Currency", True),
        Field("tax_mode", "Tax mode", help="exclusive or inclusive; empty means exclusive."),
        Field("status", "Status", help="draft, open, paid, void or uncollectible; empty means open."),
        Field("contract_number", "Contract number"),
        Field("description", "Line description"),
        Field("product_sku", "Line product SKU"),
        Field("quantity", "Line quantity", True),
        Field("unit_amount", "Line unit amount", True),
        Field("line_amount", "Line amount", help="Empty means quantity × unit amount."),
        Field("tax_rate", "Line tax rate (%)"),
        Field("tax_amount", "Line tax amount", help="Empty means computed from the tax rate."),
        Field(
            "tax_jurisdiction",
            "Line tax jurisdiction",
            help="The code of a jurisdiction in the tax rate table (e.g. US-CA-92615); its rates check the line's tax.",
        ),
        Field("total", "Invoice total", help="When given, the lines must add up to it."),
    ),
    "payment": (
        Field("reference", "Payment reference", True, "The payment's id; rows are matched on it."),
        Field("customer_number", "Customer number"),
        Field("amount", "Amount", True),
        Field("currency", "Currency", True),
        Field("received_date", "Received date", True),
        Field("method", "Method", help="card, bank_transfer, direct_debit, check or other."),
        Field("invoice_number", "Invoice number", help="The invoice it pays, applied when open."),
    ),
    "usage": (
        Field("event_id", "Usage event id", True, "Each event is recorded once, however often it is sent."),
        Field("contract_number", "Contract number", True),
        Field("product_sku", "Product SKU", True),
        Field("quantity", "Quantity", True),
        Field("timestamp", "Timestamp", True, "ISO 8601 (2026-03-01T12:00:00Z) or a date."),
    ),
}

GROUPED = frozenset({"contract", "invoice"})


def fields_for(object_type: str) -> tuple[Field, ...]:
    return FIELDS[object_type]


def id_field(object_type: str) -> str:
    return FIELDS[object_type][0].name


def field_label(object_type: str, name: str) -> str:
    for field in FIELDS.get(object_type, ()):
        if field.name == name:
            return field.label
    return name.replace("_", " ")


# Fields the writers name in their errors, as the mapping field that feeds them.
WRITER_FIELDS = {
    "customer_external_id": "customer_number",
    "product_external_id": "product_sku",
    "contract_external_id": "contract_number",
    "invoice": "invoice_number",
    "usage_at": "timestamp",
}
