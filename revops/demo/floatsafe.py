"""Amounts the money CHECK constraints accept on SQLite too.

SQLite stores decimals as binary floating point and evaluates `total =
subtotal + tax_total` and `amount_due = total - amount_paid - amount_credited`
in floating point, where 3790.00 + 274.78 is not 4064.78. Until those
constraints compare exactly there, the demo draws its random amounts again when
a document would trip them. Nothing is ever bent: a draw is simply retried.
"""

from __future__ import annotations

from decimal import Decimal

from revops.models import TaxMode
from revops.money import quantize
from revops.services.billing import InvoiceLineSpec, header_totals, line_tax


def sum_holds(subtotal: Decimal, tax: Decimal) -> bool:
    return float(subtotal) + float(tax) == float(subtotal + tax)


def balance_holds(total: Decimal, paid: Decimal, credited: Decimal) -> bool:
    """`amount_due = total - amount_paid - amount_credited`, as SQLite computes it."""
    return float(total) - float(paid) - float(credited) == float(total - paid - credited)


def document_totals(
    specs: list[InvoiceLineSpec], tax_mode: str, currency: str
) -> tuple[Decimal, Decimal, Decimal]:
    """(subtotal, tax, total) exactly as `invoice_create` computes them."""
    pairs = []
    for spec in specs:
        amount = quantize(Decimal(spec.quantity) * Decimal(spec.unit_amount), currency)
        pairs.append((amount, line_tax(amount, Decimal(spec.tax_rate), tax_mode, currency)))
    return header_totals(pairs, tax_mode)


def invoice_holds(specs: list[InvoiceLineSpec], tax_mode: str, currency: str) -> bool:
    if not specs or tax_mode == TaxMode.INCLUSIVE:
        return True  # the inclusive total is the subtotal: no arithmetic
    subtotal, tax, _ = document_totals(specs, tax_mode, currency)
    return sum_holds(subtotal, tax)
