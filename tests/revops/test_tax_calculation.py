"""The expected-tax calculation (pure): exclusive and inclusive, rounding, and
the AvaTax fixture's 7.75 % over four California jurisdictions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from revops.money import MoneyError
from revops.services.tax import ComponentRate, expected_line_tax, line_tax_total, within_tolerance

IRVINE = [
    ComponentRate("CA STATE TAX", Decimal("6"), "CALIFORNIA", "state"),
    ComponentRate("CA COUNTY TAX", Decimal("0.25"), "ORANGE", "county"),
    ComponentRate("CA SPECIAL TAX", Decimal("1"), "ORANGE CO LOCAL TAX SL", "special"),
    ComponentRate("CA SPECIAL TAX", Decimal("0.5"), "ORANGE COUNTY DISTRICT TAX SP", "special"),
]


def _d(*values: str) -> list[Decimal]:
    return [Decimal(v) for v in values]


def test_it_gives_the_fixtures_7_75_over_four_jurisdictions_on_100():
    assert expected_line_tax(Decimal("100.00"), "exclusive", IRVINE, "USD") == _d(
        "6.00", "0.25", "1.00", "0.50"
    )


def test_it_splits_a_rounded_line_tax_by_largest_remainder():
    # 90.00 × 7.75 % = 6.975 → 6.98; the county's 0.225 takes the leftover cent,
    # as AvaTax's adjusted fixture has it: 5.40 + 0.23 + 0.90 + 0.45.
    parts = expected_line_tax(Decimal("90.00"), "exclusive", IRVINE, "USD")
    assert parts == _d("5.40", "0.23", "0.90", "0.45") and sum(parts) == Decimal("6.98")


def test_it_backs_inclusive_tax_out_of_the_amount():
    # 107.75 includes 7.75 % of 100.00.
    assert expected_line_tax(Decimal("107.75"), "inclusive", IRVINE, "USD") == _d(
        "6.00", "0.25", "1.00", "0.50"
    )
    # The dj-stripe fixture: 40.00 including 15 % VAT carries 5.22.
    assert line_tax_total(Decimal("40.00"), "inclusive", Decimal("15"), "EUR") == Decimal("5.22")


@pytest.mark.parametrize("amount", ["0.01", "0.07", "33.33", "99.99", "12345.67", "1000000.01"])
@pytest.mark.parametrize("mode", ["exclusive", "inclusive"])
def test_it_makes_the_parts_sum_to_the_line_tax_rounded_once(amount, mode):
    parts = expected_line_tax(Decimal(amount), mode, IRVINE, "USD")
    assert sum(parts) == line_tax_total(Decimal(amount), mode, Decimal("7.75"), "USD")
    assert all(part == part.quantize(Decimal("0.01")) for part in parts)


def test_it_rounds_to_the_currencys_minor_unit():
    assert expected_line_tax(
        Decimal("1000"), "exclusive", [ComponentRate("JP CT", Decimal("10"))], "JPY"
    ) == [Decimal("100")]
    assert line_tax_total(Decimal("10.005"), "exclusive", Decimal("10"), "BHD") == Decimal("1.001")


def test_it_expects_no_tax_at_a_zero_rate_and_nothing_without_components():
    assert expected_line_tax(
        Decimal("50"), "exclusive", [ComponentRate("Exempt", Decimal("0"))], "USD"
    ) == _d("0.00")
    assert expected_line_tax(Decimal("50"), "exclusive", [], "USD") == []


def test_it_refuses_an_unknown_tax_mode_and_a_negative_rate():
    with pytest.raises(MoneyError, match="Unknown tax mode"):
        line_tax_total(Decimal("1"), "sideways", Decimal("5"), "USD")
    with pytest.raises(MoneyError, match="cannot be negative"):
        expected_line_tax(Decimal("1"), "exclusive", [ComponentRate("X", Decimal("-1"))], "USD")


def test_it_compares_within_the_tolerance_inclusively():
    assert within_tolerance(Decimal("7.75"), Decimal("7.76"), Decimal("0.01"))
    assert not within_tolerance(Decimal("7.75"), Decimal("7.77"), Decimal("0.01"))
    assert not within_tolerance(Decimal("7.75"), Decimal("7.74"), Decimal("0"))
