from decimal import Decimal

import pytest

from revops.money import MoneyError, allocate, money_text, quantize


def test_it_rounds_to_the_currency_minor_unit_half_up():
    assert quantize("2.345", "USD") == Decimal("2.35")
    assert quantize("1234.5", "JPY") == Decimal("1235")
    assert quantize("1.2345", "KWD") == Decimal("1.235")


def test_it_refuses_floats_and_unknown_currencies():
    with pytest.raises(MoneyError):
        quantize(0.1, "USD")
    with pytest.raises(MoneyError):
        quantize("1", "ZZZ")


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        ("100.00", [1, 1, 1], ["33.34", "33.33", "33.33"]),
        ("0.05", [1, 1], ["0.03", "0.02"]),
        ("10.00", [0, 3, 1], ["0.00", "7.50", "2.50"]),
        ("99.99", [Decimal("0.7"), Decimal("0.2"), Decimal("0.1")], ["69.99", "20.00", "10.00"]),
    ],
)
def test_allocation_sums_exactly(total, weights, expected):
    parts = allocate(Decimal(total), [Decimal(str(w)) for w in weights], "USD")
    assert parts == [Decimal(e) for e in expected]
    assert sum(parts) == Decimal(total)


def test_it_formats_money_for_people():
    assert money_text(Decimal("1234.5"), "USD") == "1,234.50 USD"
    assert money_text(Decimal("1234.5"), "JPY") == "1,235 JPY"
