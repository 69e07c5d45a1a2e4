"""Money: Decimal amounts with an ISO 4217 currency code, never floats.

Amounts are stored with four decimal places (`AMOUNT_PLACES`) so that currencies
with three minor digits fit; every amount a document carries is rounded to its
currency's minor unit with `quantize` before it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

AMOUNT_DIGITS = 20
AMOUNT_PLACES = 4
QUANTITY_DIGITS = 20
QUANTITY_PLACES = 6
RATE_DIGITS = 9
RATE_PLACES = 6

# Active ISO 4217 codes and their minor-unit exponents.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2,
    "ARS": 2,
    "AUD": 2,
    "BGN": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "COP": 2,
    "CZK": 2,
    "DKK": 2,
    "EGP": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KES": 2,
    "KRW": 0,
    "KWD": 3,
    "MAD": 2,
    "MXN": 2,
    "MYR": 2,
    "NGN": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PEN": 2,
    "PHP": 2,
    "PKR": 2,
    "PLN": 2,
    "QAR": 2,
    "RON": 2,
    "RSD": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TRY": 2,
    "TWD": 2,
    "UAH": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}
CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_EXPONENTS)]


class MoneyError(ValueError):
    """An amount or currency that cannot be used."""


def check_currency(code: str) -> str:
    if code not in CURRENCY_EXPONENTS:
        raise MoneyError(f"{code!r} is not a supported ISO 4217 currency code.")
    return code


def to_decimal(value: object) -> Decimal:
    if isinstance(value, float):
        raise MoneyError("Amounts must be given as Decimal or string, never float.")
    try:
        result = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise MoneyError(f"{value!r} is not a number.") from None
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite number.")
    return result


def quantize(amount: object, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (commercial rounding)."""
    exponent = CURRENCY_EXPONENTS[check_currency(currency)]
    return to_decimal(amount).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-CURRENCY_EXPONENTS[check_currency(currency)])


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split `total` in proportion to `weights`; the parts sum exactly to `total`.

    Largest-remainder method: every part is first rounded down to the minor
    unit, then the leftover minor units go to the parts with the largest
    remainders (earliest first on ties), so no cent is created or lost.
    """
    total = quantize(total, currency)
    if not weights:
        raise MoneyError("Cannot allocate over no weights.")
    weight_sum = sum((to_decimal(w) for w in weights), Decimal(0))
    if weight_sum <= 0 or any(to_decimal(w) < 0 for w in weights):
        raise MoneyError("Allocation weights must be non-negative and not all zero.")
    unit = minor_unit(currency)
    units_total = int((total / unit).to_integral_value())
    exact = [Decimal(units_total) * to_decimal(w) / weight_sum for w in weights]
    floors = [int(e.to_integral_value(rounding="ROUND_FLOOR")) for e in exact]
    leftover = units_total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [Decimal(units) * unit for units in floors]


def format_amount(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{amount:,.{exponent}f}"


def money_text(amount: Decimal, currency: str) -> str:
    """An amount as people read it in messages: "1,234.50 USD"."""
    return f"{format_amount(quantize(amount, currency), currency)} {currency}"
