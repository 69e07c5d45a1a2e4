"""Stripe invoices and credit notes → InvoiceRecord / CreditNoteRecord (pure).

Tax fields changed across API versions: `tax` and `total_tax_amounts[].inclusive`
(oldest), line `tax_amounts`, then `taxes[].tax_behavior` and `total_taxes` (2025
and later). Each is read; one document never mixes inclusive and exclusive tax.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.records import CreditNoteLineRecord, CreditNoteRecord, InvoiceLineRecord, InvoiceRecord
from connectors.stripe._reader import Reader, dig, id_of, join, required_date, unit_amount_path, version_of
from revops.money import AMOUNT_PLACES

INVOICE_STATUSES = {s: s for s in ("draft", "open", "paid", "void", "uncollectible")}


def map_invoice(invoice: dict, *, lines: list[dict] | None = None) -> InvoiceRecord:
    """`lines`: every line of the invoice when the caller fetched them separately
    (Stripe embeds at most a page of lines; `lines.has_more` is refused otherwise)."""
    r = Reader(invoice, "invoice")
    external_id = r.id()
    currency = r.currency()
    if lines is not None:
        r = Reader({**invoice, "lines": {"object": "list", "data": lines, "has_more": False}}, "invoice")
    line_count = len(r.list_data("lines"))
    rates = _tax_rates_by_id(r, line_count)
    return InvoiceRecord(
        external_id=external_id,
        number=r.text("number"),  # drafts have no number yet
        customer_external_id=r.ref("customer", "customer"),
        currency=currency,
        status=r.choice("status", INVOICE_STATUSES, "status"),
        tax_mode=_tax_mode(r, line_count),
        issue_date=r.date("effective_at")
        or r.date("status_transitions.finalized_at")
        or required_date(r, "created"),
        due_date=r.date("due_date"),
        subtotal=r.money("subtotal", currency, "subtotal"),
        tax_total=_document_tax_total(r, currency),
        total=r.money("total", currency, "total"),
        amount_paid=r.money_or_zero("amount_paid", currency, "amount paid"),
        lines=tuple(_invoice_line(r, i, currency, rates) for i in range(line_count)),
        contract_external_id=_invoice_subscription(r),
        period_start=r.date("period_start"),
        period_end=r.date("period_end"),
        version=version_of(invoice),
    )


def _invoice_subscription(r: Reader) -> str | None:
    found = id_of(r.at("subscription"))
    if found is None and r.at("parent.type") == "subscription_details":
        found = id_of(r.at("parent.subscription_details.subscription"))
    return found


def _tax_rates_by_id(r: Reader, line_count: int) -> dict[str, dict]:
    """Every expanded tax rate on the document, so a line's `tax_amounts[].tax_rate`
    id can be read as a percentage and jurisdiction."""
    found: dict[str, dict] = {}
    paths = ["default_tax_rates"] + [f"lines.data[{i}].tax_rates" for i in range(line_count)]
    for path in paths:
        for rate in r.at(path) or []:
            if isinstance(rate, dict) and id_of(rate):
                found[rate["id"]] = rate
    return found


def _tax_entries(r: Reader, path: str) -> list[tuple[str, bool | None, Any]]:
    """(amount path, inclusive?, tax rate ref) for each tax on a line or a document,
    whichever API version wrote it: `tax_amounts`/`total_tax_amounts` or `taxes`/`total_taxes`."""
    entries = []
    for name in ("tax_amounts", "total_tax_amounts", "taxes", "total_taxes"):
        items = r.at(join(path, name))
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            item_path = f"{join(path, name)}[{i}]"
            if not isinstance(item, dict):
                raise r.fail("has a tax entry that is not an object", item_path)
            inclusive = item.get("inclusive")
            if inclusive is None and item.get("tax_behavior") in ("inclusive", "exclusive"):
                inclusive = item["tax_behavior"] == "inclusive"
            rate = item.get("tax_rate") or dig(item, "tax_rate_details.tax_rate")
            entries.append((f"{item_path}.amount", inclusive, rate))
        if items:
            return entries  # one shape per object: never count the same tax twice
    return entries


def _tax_mode(r: Reader, line_count: int) -> str:
    flags = {inclusive for _, inclusive, _ in _tax_entries(r, "") if inclusive is not None}
    for i in range(line_count):
        flags |= {
            inclusive for _, inclusive, _ in _tax_entries(r, f"lines.data[{i}]") if inclusive is not None
        }
        for rate in r.at(f"lines.data[{i}].tax_rates") or []:
            if isinstance(rate, dict) and isinstance(rate.get("inclusive"), bool):
                flags.add(rate["inclusive"])
    if len(flags) > 1:
        raise r.fail(
            "mixes tax-inclusive and tax-exclusive amounts, which one invoice in revops cannot hold",
            "total_taxes" if r.at("total_taxes") else "total_tax_amounts",
            expected="all inclusive or all exclusive",
        )
    return "inclusive" if flags == {True} else "exclusive"


def _document_tax_total(r: Reader, currency: str) -> Decimal:
    entries = _tax_entries(r, "")
    if entries:
        return r.money_sum([path for path, _, _ in entries], currency, "tax amount")
    # Oldest API versions: a single `tax` figure; none of them means no tax.
    return r.money_or_zero("tax", currency, "tax amount")


def _invoice_line(r: Reader, index: int, currency: str, rates: dict[str, dict]) -> InvoiceLineRecord:
    path = f"lines.data[{index}]"
    amount = r.money(f"{path}.amount", currency)
    quantity = r.number(f"{path}.quantity_decimal", "quantity")
    if quantity is None:
        quantity = r.number(f"{path}.quantity", "quantity")
    entries = _tax_entries(r, path)
    line_rates = _line_rates(r, path, entries, rates)
    return InvoiceLineRecord(
        description=r.text(f"{path}.description"),
        quantity=Decimal(1) if quantity is None else quantity,  # a flat line (e.g. a fee) has none
        unit_amount=_line_unit_amount(r, path, currency, amount, quantity),
        amount=amount,
        tax_amount=r.money_sum([p for p, _, _ in entries], currency, "tax amount"),
        tax_rate=sum((_rate_percent(r, rate) for rate in line_rates), Decimal(0)),
        tax_jurisdiction=", ".join(dict.fromkeys(j for j in map(_jurisdiction, line_rates) if j)),
        product_external_id=_line_product(r, path),
        period_start=r.date(f"{path}.period.start"),
        period_end=r.date(f"{path}.period.end"),
    )


def _line_price_path(r: Reader, path: str) -> str | None:
    for name in ("price", "plan"):
        if isinstance(r.at(f"{path}.{name}"), dict):
            return f"{path}.{name}"
    return None


def _line_unit_amount(
    r: Reader, path: str, currency: str, amount: Decimal, quantity: Decimal | None
) -> Decimal:
    price_path = _line_price_path(r, path)
    # A tiered or customer-chosen price has no single unit amount: derive it from the line.
    if price_path and r.at(f"{price_path}.billing_scheme") != "tiered":
        amount_path = unit_amount_path(r, price_path)
        if amount_path is not None:
            return r.money(amount_path, currency, "unit amount")
    if r.at(f"{path}.pricing.unit_amount_decimal") is not None:
        return r.money(f"{path}.pricing.unit_amount_decimal", currency, "unit amount")
    if not quantity:
        return amount
    unit = amount / quantity
    # Quantize only what does not divide evenly (10.00 / 3): amounts are stored at AMOUNT_PLACES.
    if unit.as_tuple().exponent < -AMOUNT_PLACES:
        unit = unit.quantize(Decimal(1).scaleb(-AMOUNT_PLACES))
    return unit


def _line_product(r: Reader, path: str) -> str | None:
    price_path = _line_price_path(r, path)
    if price_path:
        return id_of(r.at(f"{price_path}.product"))
    return id_of(r.at(f"{path}.pricing.price_details.product"))


def _line_rates(r: Reader, path: str, entries: list, rates: dict[str, dict]) -> list[dict]:
    """The tax rate objects behind a line's taxes; a rate Stripe sent only as an id
    (not expanded) cannot give a percentage and is left out."""
    refs = [rate for _, _, rate in entries] or (r.at(f"{path}.tax_rates") or [])
    found = []
    for ref in refs:
        rate = ref if isinstance(ref, dict) else rates.get(ref) if isinstance(ref, str) else None
        if rate is not None:
            found.append(rate)
    return found


def _rate_percent(r: Reader, rate: dict) -> Decimal:
    rate_reader = Reader(rate, "tax rate")
    rate_reader.label = f"{r.label}: tax rate {rate.get('id') or '(without id)'}"
    percent = rate_reader.number("percentage", "percentage")
    if percent is None:
        percent = rate_reader.number("effective_percentage", "percentage")
    return percent or Decimal(0)


def _jurisdiction(rate: dict) -> str:
    for name in ("jurisdiction", "state", "country"):
        if isinstance(rate.get(name), str) and rate[name]:
            return rate[name]
    return ""


CREDIT_NOTE_STATUSES = {"issued": "issued", "void": "void"}


def map_credit_note(note: dict) -> CreditNoteRecord:
    r = Reader(note, "credit_note")
    currency = r.currency()
    line_count = len(r.list_data("lines"))
    return CreditNoteRecord(
        external_id=r.id(),
        number=r.text("number"),
        invoice_external_id=r.ref("invoice", "invoice"),
        currency=currency,
        issue_date=r.date("effective_at") or required_date(r, "created"),
        status=r.choice("status", CREDIT_NOTE_STATUSES, "status"),
        subtotal=r.money("subtotal", currency, "subtotal"),
        tax_total=_document_tax_total(r, currency),
        total=r.money("total", currency, "total"),
        reason=r.text("reason"),
        lines=tuple(_credit_note_line(r, i, currency) for i in range(line_count)),
        version=version_of(note),
    )


def _credit_note_line(r: Reader, index: int, currency: str) -> CreditNoteLineRecord:
    path = f"lines.data[{index}]"
    entries = _tax_entries(r, path)
    return CreditNoteLineRecord(
        description=r.text(f"{path}.description"),
        amount=r.money(f"{path}.amount", currency),
        tax_amount=r.money_sum([p for p, _, _ in entries], currency, "tax amount"),
    )
