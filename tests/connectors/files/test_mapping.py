"""Pure mapping of CSV values to records: strict numbers and dates, and errors
that name the field, the text found and the line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors import records as r
from connectors.files.mapping import RowError, map_payload, parse_decimal, parse_timestamp

ISO = {"thousands": "", "decimal": ".", "date_format": ""}


@pytest.mark.parametrize(
    ("text", "thousands", "decimal", "expected"),
    [
        ("1234.50", "", ".", Decimal("1234.50")),
        ("-12", "", ".", Decimal("-12")),
        ("+0.5", "", ".", Decimal("0.5")),
        ("1,234.50", ",", ".", Decimal("1234.50")),
        ("1234.50", ",", ".", Decimal("1234.50")),
        ("1.234,50", ".", ",", Decimal("1234.50")),
        ("1 234 567,5", " ", ",", Decimal("1234567.5")),
        ("1'234.50", "'", ".", Decimal("1234.50")),
    ],
)
def test_it_reads_numbers_written_as_the_mapping_says(text, thousands, decimal, expected):
    assert parse_decimal(text, thousands=thousands, decimal=decimal) == expected


@pytest.mark.parametrize(
    ("text", "thousands", "decimal"),
    [
        ("1,234.50", "", "."),  # a thousands separator the mapping does not allow
        ("12,34.50", ",", "."),  # groups of three only
        ("1,2345", ",", "."),
        ("1.5.0", "", "."),
        ("1e3", "", "."),
        ("$12", "", "."),
        ("12 USD", "", "."),
        ("NaN", "", "."),
        (".5", "", "."),
        ("5.", "", "."),
        ("", "", "."),
        ("١٢", "", "."),  # digits of another script
    ],
)
def test_it_refuses_numbers_written_any_other_way(text, thousands, decimal):
    with pytest.raises(ValueError):
        parse_decimal(text, thousands=thousands, decimal=decimal)


def test_timestamps_are_utc_whatever_their_offset():
    assert parse_timestamp("2026-03-05T10:00:00Z") == dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
    assert parse_timestamp("2026-03-05T12:00:00+02:00") == dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
    assert parse_timestamp("2026-03-05 10:00") == dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
    assert parse_timestamp("05/03/2026", "%d/%m/%Y") == dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


def _customer(**values):
    base = {"number": "C-1", "name": "Acme", "currency": "usd", "country": "us"}
    return map_payload("customer", {"values": {**base, **values}, "options": ISO})


def test_a_customer_row_maps_to_a_customer_record():
    record = _customer(city="Austin", tax_id="12-3")
    assert record == r.CustomerRecord(
        external_id="C-1",
        name="Acme",
        currency="USD",
        address=r.Address(city="Austin", country="US"),
        tax_id="12-3",
    )
    assert _customer(currency="").currency is None


@pytest.mark.parametrize(
    ("values", "field", "actual"),
    [
        ({"name": ""}, "name", ""),
        ({"currency": "dollars"}, "currency", "dollars"),
        ({"country": "USA"}, "country", "USA"),
        ({"email": "not-an-email"}, "email", "not-an-email"),
        ({"number": "x" * 41}, "number", "x" * 41),
    ],
)
def test_a_bad_customer_value_names_its_field_and_text(values, field, actual):
    with pytest.raises(RowError) as error:
        _customer(**values)
    assert error.value.field == field and error.value.actual == actual
    assert error.value.row_index is None


def test_dates_follow_the_mapping_format():
    payload = {
        "values": {
            "reference": "P-1",
            "amount": "1.234,50",
            "currency": "EUR",
            "received_date": "31/12/2026",
        },
        "options": {"thousands": ".", "decimal": ",", "date_format": "%d/%m/%Y"},
    }
    record = map_payload("payment", payload)
    assert (record.amount, record.received_date, record.method) == (
        Decimal("1234.50"),
        dt.date(2026, 12, 31),
        "other",
    )
    payload["options"]["date_format"] = ""
    with pytest.raises(RowError) as error:
        map_payload("payment", payload)
    assert error.value.field == "received_date" and "YYYY-MM-DD" in str(error.value)


def _contract_rows(*lines):
    head = {
        "number": "K-1",
        "customer_number": "C-1",
        "start_date": "2026-01-01",
        "billing_frequency": "Monthly",
        "currency": "USD",
    }
    return {"rows": [{**head, **line} for line in lines], "options": ISO}


def test_contract_lines_get_ids_from_contract_and_sku():
    record = map_payload(
        "contract",
        _contract_rows(
            {"product_sku": "SEAT", "quantity": "10", "unit_price": "25"},
            {"product_sku": "SEAT", "quantity": "2", "unit_price": "20"},
            {"product_sku": "API", "quantity": "0", "unit_price": "0.01"},
        ),
    )
    assert record.billing_frequency == "monthly" and record.status == "active"
    assert [line.external_id for line in record.lines] == ["K-1:SEAT", "K-1:SEAT#2", "K-1:API"]


def test_lines_that_disagree_on_the_header_are_refused_at_the_disagreeing_line():
    payload = _contract_rows(
        {"product_sku": "SEAT", "quantity": "1", "unit_price": "1"},
        {"product_sku": "API", "quantity": "1", "unit_price": "1", "currency": "EUR"},
    )
    with pytest.raises(RowError) as error:
        map_payload("contract", payload)
    assert (error.value.field, error.value.row_index, error.value.actual) == ("currency", 1, "EUR")


def test_a_bad_value_in_a_line_names_the_line():
    payload = _contract_rows(
        {"product_sku": "SEAT", "quantity": "1", "unit_price": "1"},
        {"product_sku": "API", "quantity": "-1", "unit_price": "1"},
    )
    with pytest.raises(RowError) as error:
        map_payload("contract", payload)
    assert (error.value.field, error.value.row_index) == ("quantity", 1)


def _invoice(tax_mode="", total="", **line):
    head = {
        "number": "INV-1",
        "customer_number": "C-1",
        "issue_date": "2026-03-01",
        "currency": "USD",
        "tax_mode": tax_mode,
        "total": total,
    }
    return {
        "rows": [{**head, "quantity": "2", "unit_amount": "50.00", "tax_rate": "20", **line}],
        "options": ISO,
    }


def test_invoice_totals_follow_the_tax_mode():
    exclusive = map_payload("invoice", _invoice())
    assert (exclusive.subtotal, exclusive.tax_total, exclusive.total) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("120.00"),
    )
    inclusive = map_payload("invoice", _invoice(tax_mode="Inclusive"))
    assert (inclusive.subtotal, inclusive.tax_total, inclusive.total) == (
        Decimal("100.00"),
        Decimal("16.67"),
        Decimal("100.00"),
    )
    given = map_payload("invoice", _invoice(tax_amount="19.99", line_amount="99.99"))
    assert (given.lines[0].amount, given.lines[0].tax_amount) == (Decimal("99.99"), Decimal("19.99"))


def test_a_stated_total_is_carried_for_the_writer_to_check():
    assert map_payload("invoice", _invoice(total="999.00")).total == Decimal("999.00")


def test_a_row_problem_found_when_reading_is_a_mapping_error():
    payload = {
        "values": {"number": "C-1", "name": "A"},
        "options": ISO,
        "problem": {"field": "", "message": "bad"},
    }
    with pytest.raises(r.MappingError, match="bad"):
        map_payload("customer", payload)


def test_a_payload_in_the_wrong_shape_is_a_mapping_error():
    with pytest.raises(r.MappingError, match="expected shape"):
        map_payload("invoice", {"values": {}})
