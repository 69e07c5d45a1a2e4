"""Pure functions: the canonical values of CSV rows → `connectors.records`.

A payload is what `parsing` stored: {"values": {field: text}, "options": {...}}
for one row, or {"rows": [{field: text}, ...], "options": {...}} for the lines
of one contract or invoice. Values are read strictly (see `values`); anything
that cannot be mapped raises `RowError`, a `MappingError` that names the field,
the text found and the line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from connectors import records as r
from connectors.files.fields import field_label
from connectors.files.values import RowError, Values, parse_decimal, parse_timestamp
from revops.money import quantize

__all__ = ["RowError", "map_payload", "parse_decimal", "parse_timestamp"]

_COUNTRY = re.compile(r"[A-Z]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ZERO = Decimal(0)

FREQUENCIES = {
    "monthly": "monthly",
    "month": "monthly",
    "quarterly": "quarterly",
    "quarter": "quarterly",
    "annual": "annual",
    "annually": "annual",
    "yearly": "annual",
    "year": "annual",
}
CONTRACT_STATUSES = {"draft": "draft", "active": "active", "cancelled": "cancelled", "canceled": "cancelled"}
INVOICE_STATUSES = {s: s for s in ("draft", "open", "paid", "void", "uncollectible")}
TAX_MODES = {"exclusive": "exclusive", "inclusive": "inclusive"}
METHODS = {
    "card": "card",
    "credit_card": "card",
    "bank_transfer": "bank_transfer",
    "transfer": "bank_transfer",
    "wire": "bank_transfer",
    "direct_debit": "direct_debit",
    "check": "check",
    "cheque": "check",
    "other": "other",
}


def _check_problem(payload: Mapping[str, Any]) -> None:
    problem = payload.get("problem")
    if problem:
        raise RowError(problem["message"], field=problem["field"])


def _check_group(rows: list[Mapping[str, str]], payload: Mapping[str, Any], object_type: str, header: tuple):
    for index, problem in enumerate(payload.get("problems") or []):
        if problem:
            raise RowError(f"Line {index + 1}: {problem['message']}", field=problem["field"], row_index=index)
    first = rows[0]
    for index, row in enumerate(rows[1:], start=1):
        for field in header:
            if (row.get(field) or "").strip() != (first.get(field) or "").strip():
                label = field_label(object_type, field)
                raise RowError(
                    f"{label} (line {index + 1}) is “{row.get(field, '')}” but another line of "
                    f"{object_type} {first.get('number', '')} says “{first.get(field, '')}”; "
                    "the lines of one document must agree on it.",
                    field=field,
                    actual=row.get(field, ""),
                    expected=first.get(field, ""),
                    row_index=index,
                )


# -- records ---------------------------------------------------------------------------------------


def map_customer(payload: Mapping[str, Any]) -> r.CustomerRecord:
    _check_problem(payload)
    v = Values("customer", payload["values"], payload.get("options", {}))
    number = v.text("number", required=True, max_length=40)
    name = v.text("name", required=True, max_length=200)
    country = v.text("country").upper()
    if country and not _COUNTRY.fullmatch(country):
        raise v.fail(
            "country", f"“{country}” is not a two-letter ISO 3166 country code such as US.", actual=country
        )
    email = v.text("email")
    if email and not _EMAIL.fullmatch(email):
        raise v.fail("email", f"“{email}” is not an email address.", actual=email)
    return r.CustomerRecord(
        external_id=number,
        name=name,
        currency=v.currency("currency"),
        email=email,
        address=r.Address(
            line1=v.text("address_line1", max_length=200),
            line2=v.text("address_line2", max_length=200),
            city=v.text("city", max_length=200),
            region=v.text("region", max_length=200),
            postal_code=v.text("postal_code", max_length=200),
            country=country,
        ),
        tax_id=v.text("tax_id", max_length=40),
    )


CONTRACT_HEADER = (
    "number",
    "customer_number",
    "start_date",
    "end_date",
    "billing_frequency",
    "currency",
    "status",
)


def map_contract(payload: Mapping[str, Any]) -> r.ContractRecord:
    rows = payload["rows"]
    options = payload.get("options", {})
    _check_group(rows, payload, "contract", CONTRACT_HEADER)
    head = Values("contract", rows[0], options, 0)
    number = head.text("number", required=True, max_length=40)
    customer = head.text("customer_number", required=True)
    start = head.date("start_date", required=True)
    end = head.date("end_date")
    if end is not None and end < start:
        raise head.fail("end_date", f"{end} is before the start date {start}.", actual=str(end))
    frequency = head.choice("billing_frequency", FREQUENCIES, "")
    if not frequency:
        raise head.fail("billing_frequency", "is empty; every row needs it.", actual="")
    currency = head.currency("currency", required=True)
    status = head.choice("status", CONTRACT_STATUSES, "active")
    lines, seen = [], {}
    for index, row in enumerate(rows):
        v = Values("contract", row, options, index if len(rows) > 1 else None)
        sku = v.text("product_sku", required=True)
        quantity = v.decimal("quantity", required=True)
        unit_price = v.decimal("unit_price", required=True)
        for field, value in (("quantity", quantity), ("unit_price", unit_price)):
            if value < 0:
                raise v.fail(field, f"{value} is negative.", actual=str(value))
        seen[sku] = seen.get(sku, 0) + 1
        line_id = f"{number}:{sku}" + (f"#{seen[sku]}" if seen[sku] > 1 else "")
        lines.append(r.ContractLineRecord(line_id, sku, quantity, unit_price))
    return r.ContractRecord(
        external_id=number,
        customer_external_id=customer,
        status=status,
        currency=currency,
        start_date=start,
        billing_frequency=frequency,
        lines=tuple(lines),
        end_date=end,
        cancelled_at=(
            dt.datetime.combine(end, dt.time(0), tzinfo=dt.UTC) if status == "cancelled" and end else None
        ),
    )


INVOICE_HEADER = (
    "number",
    "customer_number",
    "issue_date",
    "due_date",
    "currency",
    "tax_mode",
    "status",
    "contract_number",
    "total",
)


def _line_tax(amount: Decimal, rate: Decimal, tax_mode: str, currency: str) -> Decimal:
    if rate == 0:
        return quantize(0, currency)
    if tax_mode == "inclusive":
        return quantize(amount - amount / (1 + rate / 100), currency)
    return quantize(amount * rate / 100, currency)


def map_invoice(payload: Mapping[str, Any]) -> r.InvoiceRecord:
    rows = payload["rows"]
    options = payload.get("options", {})
    _check_group(rows, payload, "invoice", INVOICE_HEADER)
    head = Values("invoice", rows[0], options, 0)
    number = head.text("number", required=True, max_length=40)
    customer = head.text("customer_number", required=True)
    issue_date = head.date("issue_date", required=True)
    due_date = head.date("due_date")
    if due_date is not None and due_date < issue_date:
        raise head.fail(
            "due_date", f"{due_date} is before the issue date {issue_date}.", actual=str(due_date)
        )
    currency = head.currency("currency", required=True)
    tax_mode = head.choice("tax_mode", TAX_MODES, "exclusive")
    status = head.choice("status", INVOICE_STATUSES, "open")
    stated_total = head.decimal("total")
    lines = []
    for index, row in enumerate(rows):
        v = Values("invoice", row, options, index if len(rows) > 1 else None)
        quantity = v.decimal("quantity", required=True)
        unit_amount = v.decimal("unit_amount", required=True)
        given = v.decimal("line_amount")
        amount = quantize(quantity * unit_amount if given is None else given, currency)
        rate = v.decimal("tax_rate") or ZERO
        if not ZERO <= rate <= 100:
            raise v.fail("tax_rate", f"{rate} is not a percentage between 0 and 100.", actual=str(rate))
        tax_given = v.decimal("tax_amount")
        tax = (
            _line_tax(amount, rate, tax_mode, currency)
            if tax_given is None
            else quantize(tax_given, currency)
        )
        if tax < 0:
            raise v.fail("tax_amount", f"{tax} is negative.", actual=str(tax))
        lines.append(
            r.InvoiceLineRecord(
                description=v.text("description", max_length=300),
                quantity=quantity,
                unit_amount=unit_amount,
                amount=amount,
                tax_amount=tax,
                tax_rate=rate,
                tax_jurisdiction=v.text("tax_jurisdiction", max_length=100),
                product_external_id=v.text("product_sku") or None,
            )
        )
    subtotal = sum((line.amount for line in lines), ZERO)
    tax_total = sum((line.tax_amount for line in lines), ZERO)
    total = subtotal if tax_mode == "inclusive" else subtotal + tax_total
    return r.InvoiceRecord(
        external_id=number,
        number=number,
        customer_external_id=customer,
        currency=currency,
        status=status,
        tax_mode=tax_mode,
        issue_date=issue_date,
        due_date=due_date,
        subtotal=subtotal,
        tax_total=tax_total,
        total=stated_total if stated_total is not None else total,
        amount_paid=ZERO,
        lines=tuple(lines),
        contract_external_id=head.text("contract_number") or None,
    )


def map_payment(payload: Mapping[str, Any]) -> r.PaymentRecord:
    _check_problem(payload)
    v = Values("payment", payload["values"], payload.get("options", {}))
    reference = v.text("reference", required=True, max_length=40)
    amount = v.decimal("amount", required=True)
    if amount <= 0:
        raise v.fail("amount", f"{amount} is not a positive amount.", actual=str(amount))
    return r.PaymentRecord(
        external_id=reference,
        amount=amount,
        currency=v.currency("currency", required=True),
        received_date=v.date("received_date", required=True),
        status="succeeded",
        method=v.choice("method", METHODS, "other"),
        customer_external_id=v.text("customer_number") or None,
        invoice_external_id=v.text("invoice_number") or None,
        gateway_reference=reference,
    )


def map_usage(payload: Mapping[str, Any]) -> r.UsageRecordIn:
    _check_problem(payload)
    v = Values("usage", payload["values"], payload.get("options", {}))
    event_id = v.text("event_id", required=True, max_length=200)
    quantity = v.decimal("quantity", required=True)
    if quantity < 0:
        raise v.fail("quantity", f"{quantity} is negative.", actual=str(quantity))
    return r.UsageRecordIn(
        external_id=event_id,
        contract_external_id=v.text("contract_number", required=True),
        product_external_id=v.text("product_sku", required=True),
        quantity=quantity,
        usage_at=v.timestamp("timestamp"),
    )


MAPPERS: dict[str, Callable[[Mapping[str, Any]], object]] = {
    "customer": map_customer,
    "contract": map_contract,
    "invoice": map_invoice,
    "payment": map_payment,
    "usage": map_usage,
}


def map_payload(object_type: str, payload: Mapping[str, Any]) -> object:
    try:
        mapper = MAPPERS[object_type]
    except KeyError:
        raise r.MappingError(f"File imports cannot map {object_type} rows.", field="object_type") from None
    try:
        return mapper(payload)
    except (KeyError, TypeError, IndexError) as exc:
        # A stored payload edited into the wrong shape (e.g. by a correction).
        raise r.MappingError(f"The row's data is not in the expected shape: {exc!r}.") from None
