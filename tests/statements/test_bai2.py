"""BAI2 parsing, on moov-io's sample files: records, continuations, control totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reconciliation.statements.parsers import bai2
from reconciliation.statements.parsers.types import CREDIT, DEBIT, StatementParseError, check_balance
from tests.statements.vendor import sample


def test_it_reads_the_two_day_cad_file_with_totals_carried_in_88_records():
    first, second = bai2.parse(sample("bai2/sample1.txt"))
    assert (first.account, first.currency, first.format) == ("10200123456", "CAD", "bai2")
    assert first.period_end == dt.date(2006, 3, 17)
    # Credits (100) and debits (400) of 2,085.00 each are carried in the 88 after the 03.
    assert len(first.entries) == 11
    assert (first.credit_total, first.debit_total) == (Decimal("2085.00"), Decimal("2085.00"))
    assert first.closing_available.amount == Decimal("0.00")
    assert first.opening_booked is None and first.closing_booked is None
    returned = first.entries[0]
    assert (returned.amount, returned.direction, returned.bank_transaction_code) == (
        Decimal("25.00"),
        DEBIT,
        "409",
    )
    assert returned.value_date == dt.date(2006, 3, 16)  # funds type V gives the value date
    assert returned.remittance_info == "RETURNED CHEQUE"
    assert len(second.entries) == 6
    assert (second.credit_total, second.debit_total) == (Decimal("1115.00"), Decimal("1115.00"))
    assert first.statement_id != second.statement_id


def test_it_reads_summaries_continued_field_by_field_in_88_records():
    statements = bai2.parse(sample("bai2/sample2.txt"))
    assert [s.account for s in statements] == [
        "0123456789",
        "9876543210",
        "4589761203",
        "0975312468",
        "7890654321",
    ]
    assert {s.currency for s in statements} == {"USD"}  # no currency given: the BAI2 default
    assert [s.opening_booked.amount for s in statements] == [
        Decimal("43500.00"),
        Decimal("-5000.00"),
        Decimal("100000.00"),
        Decimal("5000.00"),
        Decimal("8000.00"),
    ]
    letter_of_credit = statements[2].entries[0]
    assert letter_of_credit.amount == Decimal("200000.00")
    assert letter_of_credit.direction == CREDIT
    assert (letter_of_credit.bank_reference, letter_of_credit.end_to_end_id) == ("SP4738", "YRC065321")
    assert letter_of_credit.value_date == dt.date(2004, 6, 22)
    # The text comes in an 88 after a 16 that ended with its customer reference.
    assert letter_of_credit.remittance_info == "PROCEEDS OF LETTER OF CREDIT FROM THE ARAMCO OIL CO"


def test_it_reads_records_packed_on_one_line_and_text_broken_over_lines():
    statements = bai2.parse(sample("bai2/sample3.txt"))
    assert len(statements) == 15
    assert sum(len(s.entries) for s in statements) == 26
    first = statements[0]
    assert (first.opening_booked.amount, first.closing_booked.amount) == (
        Decimal("-35.00"),
        Decimal("-36.00"),
    )
    assert (first.credit_total, first.debit_total) == (Decimal("31.00"), Decimal("32.00"))
    assert all(check_balance(s).balanced for s in statements)
    wrapped = statements[7].entries[0]
    assert wrapped.remittance_info == "111111 ACH_SETL 1111111111 111111111111111 1111111111"


def test_it_refuses_a_file_whose_account_total_disagrees_with_its_records():
    with pytest.raises(StatementParseError) as excinfo:
        bai2.parse(sample("bai2/sample4-continuations-newline-delimited.txt"))
    assert excinfo.value.message == (
        "Line 22, record 49: the account control total of account 107049932 is -12601613417.62, but its "
        "balances and transactions (88 continuations included) add up to 79999.60."
    )


def test_it_refuses_a_continuation_written_with_a_colon():
    with pytest.raises(StatementParseError) as excinfo:
        bai2.parse(sample("bai2/sample5-issue113.txt"))
    assert excinfo.value.message == (
        "Line 63: '88:EREF: 07370568132' is not a BAI2 record: a two-digit record code must be followed by a comma."
    )


def test_it_refuses_the_broken_header():
    with pytest.raises(StatementParseError) as excinfo:
        bai2.parse(sample("bai2/sample-parseError.txt"))
    assert excinfo.value.message == (
        "Line 1: record code 00 is not a BAI2 record; expected one of 01, 02, 03, 16, 49, 88, 98, 99."
    )


def test_it_counts_an_amount_in_an_88_towards_the_account_total():
    # Drop the 88 that carries 100/400 of 2,085.00 each: the trailer no longer adds up.
    lines = sample("bai2/sample1.txt").decode().splitlines()
    without = "\n".join(line for number, line in enumerate(lines, 1) if number != 4)
    with pytest.raises(
        StatementParseError,
        match=r"^Line 15, record 49: the account control total of account "
        r"10200123456 is 8340.00, but its balances and transactions \(88 continuations included\) "
        r"add up to 4170.00\.$",
    ):
        bai2.parse(without.encode())


def test_it_refuses_a_group_total_that_disagrees():
    text = sample("bai2/sample1.txt").replace(b"98,+00000000001280000", b"98,+00000000001280001")
    with pytest.raises(StatementParseError, match=r"^Line 26, record 98: the group control total is 1280001"):
        bai2.parse(text)


def test_it_refuses_a_wrong_record_count():
    text = sample("bai2/sample1.txt").replace(b"49,+00000000000446000,9/", b"49,+00000000000446000,8/")
    with pytest.raises(StatementParseError) as excinfo:
        bai2.parse(text)
    assert excinfo.value.message == (
        "Line 25, record 49: the trailer counts 8 records for account 10200123456, but the file has 9."
    )


def test_it_refuses_a_file_cut_short():
    text = b"\n".join(sample("bai2/sample1.txt").splitlines()[:-2])
    with pytest.raises(
        StatementParseError, match=r"^The file ends at line 25 without its file trailer \(99\)"
    ):
        bai2.parse(text)


def test_it_refuses_a_transaction_outside_an_account():
    text = b"01,A,B,060321,0829,001,80,1,2/\n02,B,A,1,060317,,CAD,/\n16,409,100,0,,,X/\n"
    with pytest.raises(StatementParseError, match=r"^Line 3, record 16: a transaction detail \(16\) outside"):
        bai2.parse(text)


def test_it_refuses_a_type_code_that_is_neither_credit_nor_debit():
    text = sample("bai2/sample1.txt").replace(b"16,409,000000000002500", b"16,890,000000000002500")
    with pytest.raises(StatementParseError, match="type code 890 is neither a credit"):
        bai2.parse(text)
