"""MT940/MT942 parsing, on statements of several banks (wolph/mt940's samples)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reconciliation.statements.parsers import mt940
from reconciliation.statements.parsers.types import CREDIT, DEBIT, StatementParseError, check_balance
from tests.statements.vendor import sample


def _balances(statement):
    return statement.opening_booked.amount, statement.closing_booked.amount


def test_it_reads_a_german_sepa_file_of_26_statements():
    statements = mt940.parse(sample("mt940/betterplace_sepa_mt9401.sta"))
    assert len(statements) == 26
    assert sum(len(s.entries) for s in statements) == 97
    assert all(check_balance(s).balanced for s in statements)
    first = statements[0]
    assert (first.account, first.statement_id, first.sequence) == (
        "50880050/0194774600888",
        "T089413946000001",
        "00004/00001",
    )
    assert _balances(first) == (Decimal("-1234718.36"), Decimal("-1237628.23"))  # debit balances
    assert first.closing_available.amount == Decimal("-1237628.23")
    reversal = first.entries[5]
    assert (reversal.amount, reversal.direction, reversal.raw["mark"]) == (Decimal("204.88"), DEBIT, "RC")


def test_it_reads_the_structured_86_subfields():
    first, second = mt940.parse(sample("mt940/betterplace_sepa_snippet.sta"))
    entry = first.entries[0]
    assert (entry.amount, entry.direction) == (Decimal("50990.05"), CREDIT)
    assert (entry.booking_date, entry.value_date) == (dt.date(2007, 9, 4), dt.date(2007, 9, 7))
    assert entry.end_to_end_id == "EndToEndId TFNR 22 004 00001"
    assert entry.remittance_info == "Verw CTSc-01 BC-PPP TFNr 22 004"
    assert entry.counterparty_name == "KARL KAUFMANN"
    assert entry.counterparty_account == "DE14508800500194785000"
    assert entry.bank_reference == "0724710333343453"
    assert entry.bank_transaction_code == "NTRF/166"
    assert entry.raw["subfields"]["00"] == "GUTSCHRIFT"
    assert first.closing_available.amount == Decimal("559614.51")


def test_it_finds_the_snippet_statement_that_does_not_balance():
    first, second = mt940.parse(sample("mt940/betterplace_sepa_snippet.sta"))
    assert check_balance(first).balanced is True
    check = check_balance(second)
    assert check.balanced is False
    assert (check.expected_closing, check.actual_closing) == (Decimal("-4472349.17"), Decimal("-4472049.09"))
    assert check.difference == Decimal("300.08")


def test_it_refuses_the_broken_snippet_naming_the_line():
    with pytest.raises(StatementParseError) as excinfo:
        mt940.parse(sample("mt940/betterplace_sepa_snippet_broken.sta"))
    assert excinfo.value.message == (
        "Line 6: :25: cannot follow :61: (line 5) in the statement starting at line 1; "
        "expected :61:, :62F:, :62M:, :86:, :90C:, :90D:."
    )


def test_it_reads_31_daily_statements_inside_swift_envelopes():
    statements = mt940.parse(sample("mt940/ASNB_mt940.txt"))
    assert len(statements) == 31
    assert [s.sequence for s in statements[:3]] == ["1/1", "2/1", "3/1"]
    assert _balances(statements[0]) == (Decimal("444.29"), Decimal("379.29"))
    assert _balances(statements[-1]) == (Decimal("404.81"), Decimal("501.23"))
    assert sum(len(s.entries) for s in statements) == 8
    assert all(check_balance(s).balanced for s in statements)


def test_it_reads_citis_lines_with_a_blank_entry_date_and_a_funds_code():
    [statement] = mt940.parse(sample("mt940/citi_mt940.txt"))
    assert (statement.account, statement.currency) == ("123456789", "USD")
    assert [(e.direction, e.amount) for e in statement.entries] == [
        (DEBIT, Decimal("212.39")),
        (DEBIT, Decimal("369.28")),
        (CREDIT, Decimal("0.00")),
        (CREDIT, Decimal("0.00")),
        (DEBIT, Decimal("561.08")),
    ]
    assert _balances(statement) == (Decimal("17376.67"), Decimal("16233.92"))
    assert statement.closing_available.amount == Decimal("16233.92")
    assert check_balance(statement).balanced is True


def test_it_reads_three_statements_of_cmxl_in_three_currencies():
    statements = mt940.parse(sample("mt940/cmxl_mt940.sta"))
    assert [(s.account, s.currency, len(s.entries)) for s in statements] == [
        ("45050050/76198810", "DEM", 11),
        ("10020030/1234567", "EUR", 2),
        ("BPHKPLPK/320000546101", "PLN", 3),
    ]
    assert all(check_balance(s).balanced for s in statements)
    standing_order = statements[1].entries[0]
    assert standing_order.remittance_info == "Miete November"
    assert standing_order.counterparty_name == "MUELLER"
    assert standing_order.counterparty_account == "234567"
    polish = statements[2].entries[0]
    assert polish.counterparty_account == "PL08106000760000777777777777"  # ?38, the IBAN


@pytest.mark.parametrize(
    ("name", "balanced"),
    [
        ("mt940/jejik_abnamro.sta", [False, False]),
        ("mt940/jejik_ing.sta", [False]),
        ("mt940/jejik_knab.sta", [True, False]),
        ("mt940/jejik_rabobank.sta", [False, True, True, True]),
        ("mt940/jejik_triodos.sta", [False]),
        ("mt940/jejik_rabobank-iban.sta", [True, True]),
    ],
)
def test_it_checks_every_dutch_sample_against_its_closing_balance(name, balanced):
    assert [check_balance(s).balanced for s in mt940.parse(sample(name))] == balanced


def test_it_reports_how_far_the_abn_amro_statement_is_off():
    first, second = mt940.parse(sample("mt940/jejik_abnamro.sta"))
    assert len(first.entries) == 8
    assert first.debit_total == Decimal("321.44")
    check = check_balance(first)
    assert (check.expected_closing, check.actual_closing) == (Decimal("2914.84"), Decimal("876.84"))
    assert second.opening_booked.amount == Decimal("2876.84")  # :60M:, an intermediate opening balance
    assert second.closing_booked.amount == Decimal("1849.75")  # :62M:


def test_it_reads_the_ing_and_knab_statements():
    [ing] = mt940.parse(sample("mt940/jejik_ing.sta"))
    assert (ing.account, len(ing.entries)) == ("0001234567", 7)
    assert (ing.credit_total, ing.debit_total) == (Decimal("4.68"), Decimal("50.27"))
    first, second = mt940.parse(sample("mt940/jejik_knab.sta"))
    assert _balances(first) == (Decimal("0.00"), Decimal("500.00"))
    assert first.entries[0].bank_reference == "B4E07XM00J000023"
    assert second.entries[1].amount == Decimal("500.00")  # written without a decimal comma


def test_it_reads_rabobank_slash_keys():
    first, second = mt940.parse(sample("mt940/jejik_rabobank-iban.sta"))
    assert first.account == "NL71RABO0123456789"
    eref, reference = first.entries
    assert eref.end_to_end_id == "01-01-2013 12:00 0030000987654321"
    assert eref.counterparty_name == "CONTRA ACCOUNT HOLDER"
    assert eref.counterparty_account == "NL70ABNA0987654321"
    assert (reference.remittance_info, reference.counterparty_name) == ("Reference 201301234", "JOHN DOE")
    assert second.period_end == dt.date(2013, 1, 15)


def test_it_reads_old_rabobank_statements_with_repeated_86():
    statements = mt940.parse(sample("mt940/jejik_rabobank.sta"))
    assert [s.statement_id for s in statements] == ["940A110615", "940A110616", "940A110617", "940A120829"]
    assert statements[0].entries[0].remittance_info == (
        "Terugboeking NIET AKKOORD MET AFSCHRIJVING KOSTEN KINDEROPVANG JUNI 20095731"
    )
    assert statements[1].entries == []


def test_it_reads_triodos_subfields_with_another_separator():
    [statement] = mt940.parse(sample("mt940/jejik_triodos.sta"))
    assert statement.entries[1].remittance_info == "HUUR KANTOOR - FEB 2010"
    assert check_balance(statement).difference == Decimal("111.40")


def test_it_reads_an_mt942_interim_report_and_checks_its_sums():
    [report] = mt940.parse(sample("mt940/mBank_mt942.sta"))
    assert (report.format, report.account, report.currency) == (
        "mt942",
        "PL29114010810000267002001002",
        "PLN",
    )
    assert report.period_end == dt.date(2017, 1, 19)
    assert report.opening_booked is None
    assert [e.amount for e in report.entries] == [Decimal("0.01")] * 3
    assert report.credit_total == Decimal("0.03")
    tampered = sample("mt940/mBank_mt942.sta").replace(b":90C:3PLN0,03", b":90C:3PLN0,04")
    with pytest.raises(StatementParseError) as excinfo:
        mt940.parse(tampered)
    assert (
        excinfo.value.message == "Line 26: :90C: reports 3 credits for 0.04, but the report has 3 for 0.03."
    )


def test_it_refuses_a_statement_without_its_closing_balance():
    text = b":20:X\n:25:NL71RABO0123456789\n:28C:1\n:60F:C130101EUR10,00\n:61:130101D1,00NTRFNONREF\n-\n"
    with pytest.raises(StatementParseError) as excinfo:
        mt940.parse(text)
    assert excinfo.value.message == (
        "The statement starting at line 1 ends after :61: (line 5) without its closing balance (:62F: or :62M:)."
    )


def test_it_refuses_a_statement_line_it_cannot_read():
    text = b":20:X\n:25:A\n:28C:1\n:60F:C130101EUR10,00\n:61:13010XD1,00NTRF\n:62F:C130101EUR9,00\n-\n"
    with pytest.raises(
        StatementParseError, match=r"^Line 5: the statement line :61:13010XD1,00NTRF does not read"
    ):
        mt940.parse(text)


def test_it_refuses_a_closing_balance_in_another_currency():
    text = b":20:X\n:25:A\n:28C:1\n:60F:C130101EUR10,00\n:62F:C130101USD10,00\n-\n"
    with pytest.raises(StatementParseError, match=r"^Line 5: the closing balance is in USD, the opening"):
        mt940.parse(text)
