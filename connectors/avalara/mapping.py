"""Invoice records → AvaTax CreateTransactionModel, and AvaTax transactions →
the expected tax per line and jurisdiction. Pure: no database, no I/O.

The request is an uncommitted SalesOrder: AvaTax computes the tax without
recording a document, which is what a check needs. Each invoice line is sent
with its number (1, 2, ...), its amount in the invoice's tax mode and
`taxIncluded` for inclusive invoices, so AvaTax backs the tax out of the amount.
Rates come back as fractions (0.0625) and leave as percentages (6.25).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.errors import ConfigurationError
from connectors.records import InvoiceRecord
from connectors.tax_check import ExpectedComponent, ExpectedLine
from revops.money import quantize

DEFAULT_COMPANY_CODE = "DEFAULT"
# AvaTax names jurisdiction types two ways: short in line details, long in summaries.
JURISDICTION_TYPES = {
    "CNT": "country",
    "Country": "country",
    "STA": "state",
    "State": "state",
    "CTY": "county",
    "County": "county",
    "CIT": "city",
    "City": "city",
    "STJ": "special",
    "Special": "special",
}


def address_of(
    *, line1: str = "", city: str = "", region: str = "", postal_code: str = "", country: str = ""
) -> dict[str, str] | None:
    """An AvaTax address, or None when there is too little to locate the buyer
    (AvaTax needs the country and a postal code or region)."""
    if not country or not (postal_code or region):
        return None
    address = {"line1": line1, "city": city, "region": region, "country": country, "postalCode": postal_code}
    return {key: value for key, value in address.items() if value}


def transaction_model(
    rec: InvoiceRecord,
    *,
    customer_code: str,
    address: dict[str, str],
    company_code: str = "",
    exemption_no: str = "",
) -> dict[str, Any]:
    """The CreateTransactionModel that asks what tax `rec` should carry."""
    inclusive = rec.tax_mode == "inclusive"
    model: dict[str, Any] = {
        "type": "SalesOrder",
        "companyCode": company_code or DEFAULT_COMPANY_CODE,
        "date": rec.issue_date.isoformat() if isinstance(rec.issue_date, dt.date) else str(rec.issue_date),
        "customerCode": customer_code,
        "purchaseOrderNo": rec.number or rec.external_id,
        "addresses": {"SingleLocation": address},
        "lines": [
            {
                "number": str(number),
                "quantity": line.quantity,
                "amount": line.amount,
                "taxIncluded": inclusive,
                "itemCode": (line.product_external_id or "")[:50],
                "description": line.description[:255],
            }
            for number, line in enumerate(rec.lines, start=1)
        ],
        "commit": False,
        "currencyCode": rec.currency,
        "description": f"revops tax check of invoice {rec.number or rec.external_id}"[:255],
    }
    if exemption_no:
        model["exemptionNo"] = exemption_no[:25]
    return model


def expected_lines(transaction: dict[str, Any], currency: str) -> dict[int, ExpectedLine]:
    """{line number: expected tax with its jurisdiction components} from a transaction."""
    lines = transaction.get("lines")
    if not isinstance(lines, list):
        raise _shape("has no lines")
    found: dict[int, ExpectedLine] = {}
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            raise _shape(f"line {index} is not an object")
        try:
            number = int(str(line.get("lineNumber")))
        except ValueError:
            raise _shape(f"line {index} has no line number") from None
        details = line.get("details") or []
        if not isinstance(details, list):
            raise _shape(f"line {number} has details that are not a list")
        components = tuple(_component(detail, number, currency) for detail in details)
        found[number] = ExpectedLine(
            tax=quantize(_amount(line, ("taxCalculated", "tax"), f"line {number}"), currency),
            components=components,
        )
    return found


def _component(detail: Any, number: int, currency: str) -> ExpectedComponent:
    where = f"line {number} detail"
    if not isinstance(detail, dict):
        raise _shape(f"{where} is not an object")
    rate = _number(detail.get("rate"), f"{where} rate")
    return ExpectedComponent(
        name=str(detail.get("taxName") or detail.get("jurisName") or "Tax"),
        authority=str(detail.get("jurisName") or ""),
        type=JURISDICTION_TYPES.get(str(detail.get("jurisType") or ""), "special"),
        rate=(rate * 100).normalize() if rate else Decimal(0),
        amount=quantize(_amount(detail, ("taxCalculated", "tax"), where), currency),
        code=str(detail.get("jurisCode") or ""),
    )


def _amount(obj: dict, names: tuple[str, ...], where: str) -> Decimal:
    for name in names:
        if obj.get(name) is not None:
            return _number(obj[name], f"{where} {name}")
    raise _shape(f"{where} has no tax amount")


def _number(value: Any, where: str) -> Decimal:
    if value is None:
        return Decimal(0)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _shape(f"{where} is not a number: {value!r}") from None
    if not number.is_finite():
        raise _shape(f"{where} is not a finite number")
    return number


def _shape(problem: str) -> ConfigurationError:
    return ConfigurationError(f"AvaTax answered with a transaction revops cannot read: {problem}")
