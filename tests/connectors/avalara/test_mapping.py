"""AvaTax mapping on Avalara's own fixture files: the request we send and the
expected tax per line and jurisdiction we read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.avalara.mapping import address_of, expected_lines, transaction_model
from connectors.errors import ConfigurationError
from connectors.records import InvoiceLineRecord, InvoiceRecord
from tests.connectors.avalara.fake_avatax import fixture


def _record(*, mode="exclusive", amount="100.00") -> InvoiceRecord:
    line = InvoiceLineRecord(
        description="Yarn",
        quantity=Decimal(1),
        unit_amount=Decimal(amount),
        amount=Decimal(amount),
        tax_amount=Decimal("7.75"),
        product_external_id="Y0001",
    )
    return InvoiceRecord(
        external_id="in_1",
        number="2017-04-12-001",
        customer_external_id="cus_1",
        currency="USD",
        status="open",
        tax_mode=mode,
        issue_date=dt.date(2017, 4, 12),
        due_date=None,
        subtotal=Decimal(amount),
        tax_total=Decimal("7.75"),
        total=Decimal("107.75"),
        amount_paid=Decimal(0),
        lines=(line,),
    )


def test_it_reads_the_fixture_as_7_75_over_four_california_jurisdictions():
    lines = expected_lines(fixture("transaction_response.json"), "USD")
    assert list(lines) == [1]
    line = lines[1]
    assert line.tax == Decimal("7.75") and line.rate == Decimal("7.75")
    assert [(c.name, c.authority, c.type, c.rate, c.amount) for c in line.components] == [
        ("CA STATE TAX", "CALIFORNIA", "state", Decimal("6"), Decimal("6.00")),
        ("CA COUNTY TAX", "ORANGE", "county", Decimal("0.25"), Decimal("0.25")),
        ("CA SPECIAL TAX", "ORANGE COUNTY DISTRICT TAX SP", "special", Decimal("0.5"), Decimal("0.50")),
        ("CA SPECIAL TAX", "ORANGE CO LOCAL TAX SL", "special", Decimal("1"), Decimal("1.00")),
    ]
    assert sum(c.amount for c in line.components) == line.tax


def test_it_reads_the_adjusted_fixture_rounded_per_jurisdiction():
    # 90.00 at 7.75 %: AvaTax rounds each jurisdiction, 5.40 + 0.23 + 0.45 + 0.90 = 6.98.
    line = expected_lines(fixture("adjust_transaction_response.json"), "USD")[1]
    assert line.tax == Decimal("6.98")
    assert [c.amount for c in line.components] == [Decimal(x) for x in ("5.40", "0.23", "0.45", "0.90")]


def test_it_asks_for_an_uncommitted_sales_order_in_the_documented_shape():
    address = address_of(
        line1="123 Main Street", city="Irvine", region="CA", postal_code="92615", country="US"
    )
    model = transaction_model(_record(), customer_code="ABC", address=address)
    documented = fixture("transaction_request.json")
    assert set(model) >= set(documented) - {"type", "commit"}
    assert (model["type"], model["commit"]) == ("SalesOrder", False)
    assert model["addresses"] == documented["addresses"]
    assert model["companyCode"] == documented["companyCode"] == "DEFAULT"
    assert (model["date"], model["customerCode"], model["currencyCode"]) == ("2017-04-12", "ABC", "USD")
    (line,) = model["lines"]
    assert line["number"] == "1" and line["amount"] == Decimal("100.00") and line["itemCode"] == "Y0001"
    assert line["taxIncluded"] is False


def test_it_marks_inclusive_lines_as_tax_included():
    model = transaction_model(
        _record(mode="inclusive", amount="107.75"),
        customer_code="ABC",
        address={"country": "US", "postalCode": "92615"},
        company_code="ACME",
        exemption_no="CA-RESALE-1",
    )
    assert model["lines"][0]["taxIncluded"] is True
    assert model["companyCode"] == "ACME" and model["exemptionNo"] == "CA-RESALE-1"


def test_it_needs_a_country_and_a_postal_code_or_region_to_place_the_sale():
    assert address_of(city="Irvine", country="US") is None
    assert address_of(postal_code="92615") is None
    assert address_of(region="CA", country="US") == {"region": "CA", "country": "US"}


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"id": 1}, "has no lines"),
        ({"lines": ["x"]}, "line 0 is not an object"),
        ({"lines": [{"lineNumber": "one", "tax": 1}]}, "has no line number"),
        ({"lines": [{"lineNumber": "1"}]}, "has no tax amount"),
        (
            {"lines": [{"lineNumber": "1", "tax": 1, "details": [{"rate": "x", "tax": 1}]}]},
            "rate is not a number",
        ),
    ],
)
def test_it_refuses_a_transaction_it_cannot_read(answer, problem):
    with pytest.raises(ConfigurationError, match=problem):
        expected_lines(answer, "USD")
