"""Reading CSV files: encodings, headers, missing columns, row numbers, and
records that hash the same whatever the order of their rows."""

from __future__ import annotations

import pytest

from connectors.engine import content_hash
from connectors.files import parsing

COLUMNS = {"number": "Customer No", "name": "Company", "currency": "Currency"}
OPTIONS = {"delimiter": ",", "thousands": "", "decimal": ".", "date_format": ""}


def _parse(text, object_type="customer", columns=COLUMNS, options=OPTIONS):
    content = text.encode() if isinstance(text, str) else text
    return parsing.parse(content, object_type, columns, options)


def test_it_reads_rows_with_spreadsheet_row_numbers_and_skips_blank_lines():
    parsed, records = _parse(
        "Customer No,Company,Currency,Extra\nC-1,Acme,USD,x\n\n,,,\nC-2, Globex ,EUR,y\n"
    )
    assert [row.number for row in parsed.rows] == [2, 5]
    assert parsed.rows[1].values == {"number": "C-2", "name": "Globex", "currency": "EUR"}
    assert [(r.raw.external_id, r.rows) for r in records] == [("C-1", (2,)), ("C-2", (5,))]
    assert records[0].raw.payload == {
        "values": {"number": "C-1", "name": "Acme", "currency": "USD"},
        "options": {
            "thousands": "",
            "decimal": ".",
            "date_format": "",
        },
    }


def test_it_accepts_a_byte_order_mark_and_matches_headers_loosely():
    parsed, _ = _parse("\ufeff customer no ,COMPANY,currency\r\nC-1,Acme,USD\r\n".encode())
    assert parsed.rows[0].values["number"] == "C-1"


def test_it_refuses_text_that_is_not_utf8_and_says_where():
    with pytest.raises(parsing.FileProblem) as problem:
        _parse("Customer No,Company,Currency\nC-1,Société,EUR\n".encode("latin-1"))
    assert "not UTF-8" in problem.value.message and "line 2" in problem.value.message


@pytest.mark.parametrize("content", [b"PK\x03\x04\x14\x00rest-of-a-zip", b"abc\x00def"])
def test_it_refuses_workbooks_and_binary_files(content):
    with pytest.raises(parsing.FileProblem, match="not a CSV file"):
        _parse(content)


def test_it_lists_the_missing_mapped_columns_and_the_columns_the_file_has():
    with pytest.raises(parsing.FileProblem) as problem:
        _parse("Number,Company,Ccy\nC-1,Acme,USD\n")
    assert problem.value.missing == ["Customer No", "Currency"]
    assert problem.value.present == ["Number", "Company", "Ccy"]
    assert problem.value.message == (
        "The file lacks these mapped columns: Customer No, Currency. "
        "The file's columns are: Number, Company, Ccy."
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        ("Customer No,Company,Currency\n", "The file has a header but no data rows."),
        ("Customer No,Company,Company,Currency\nC-1,a,b,USD\n", "more than once"),
        ('Customer No,Company,Currency\nC-1,"Acme,USD\n', "not valid CSV"),
    ],
)
def test_it_refuses_files_it_cannot_read_as_a_whole(text, message):
    with pytest.raises(parsing.FileProblem, match=message):
        _parse(text)


def test_a_row_with_too_many_values_is_a_row_problem_not_a_file_problem():
    _, records = _parse("Customer No,Company,Currency\nC-1,Acme,USD,oops\nC-2,Globex,EUR,,\n")
    assert (
        records[0].raw.payload["problem"]["message"] == "The row has 4 values but the header has 3 columns."
    )
    assert "problem" not in records[1].raw.payload


def test_rows_without_an_id_get_a_stable_id():
    _, records = _parse("Customer No,Company,Currency\n,Acme,USD\n")
    _, again = _parse("Customer No,Company,Currency\nC-9,X,USD\n,Acme,USD\n")
    assert records[0].raw.external_id.startswith("(no id) ")
    assert records[0].raw.external_id == again[1].raw.external_id


def test_a_semicolon_file_is_read_with_its_delimiter():
    parsed, _ = _parse(
        "Customer No;Company;Currency\nC-1;Acme, Inc.;USD\n", options={**OPTIONS, "delimiter": ";"}
    )
    assert parsed.rows[0].values["name"] == "Acme, Inc."


INVOICE_COLUMNS = {
    "number": "Invoice",
    "customer_number": "Customer",
    "quantity": "Qty",
    "unit_amount": "Unit",
}


def test_rows_of_one_invoice_are_one_record_whatever_their_order():
    header = "Invoice,Customer,Qty,Unit"
    lines = ["INV-1,C-1,1,10", "INV-2,C-1,1,5", "INV-1,C-1,2,20"]
    _, records = _parse("\n".join([header, *lines]), "invoice", INVOICE_COLUMNS)
    _, reordered = _parse("\n".join([header, *reversed(lines)]), "invoice", INVOICE_COLUMNS)
    assert [r.raw.external_id for r in records] == ["INV-1", "INV-2"]
    assert [r.raw.external_id for r in reordered] == ["INV-1", "INV-2"]
    first = {r.raw.external_id: r for r in records}
    second = {r.raw.external_id: r for r in reordered}
    for key in ("INV-1", "INV-2"):
        assert content_hash(first[key].raw.payload) == content_hash(second[key].raw.payload)
    assert sorted(first["INV-1"].rows) == [2, 4] and sorted(second["INV-1"].rows) == [2, 4]
    # Row numbers follow the payload's lines: row 2 is a different line in each file.
    assert (
        dict(zip(first["INV-1"].rows, first["INV-1"].raw.payload["rows"], strict=True))[2]["quantity"] == "1"
    )
    assert (
        dict(zip(second["INV-1"].rows, second["INV-1"].raw.payload["rows"], strict=True))[2]["quantity"]
        == "2"
    )


def test_the_mapping_may_only_name_fields_of_the_object_type():
    with pytest.raises(parsing.FileProblem, match="do not have: colour"):
        _parse("Customer No,Company,Currency\nC-1,Acme,USD\n", columns={**COLUMNS, "colour": "Colour"})
