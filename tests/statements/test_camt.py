"""camt.052/.053/.054 parsing, on the PostFinance and Finnish banking samples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reconciliation.statements.parsers import camt
from reconciliation.statements.parsers.types import (
    BOOKED,
    CREDIT,
    DEBIT,
    PENDING,
    Balance,
    StatementParseError,
    check_balance,
)
from tests.statements.vendor import sample

POSTFINANCE_053 = "camt/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml"
POSTFINANCE_052 = "camt/200519_camt.052_P_CH2909000000250094239_1110092686_0_2019042416072347.xml"
POSTFINANCE_054_CREDIT = (
    "camt/200519_camt.054-Credit_P_CH2909000000250094239_1110092691_0_2019042421291293.xml"
)
POSTFINANCE_054_ESR = "camt/200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179.xml"
POSTFINANCE_054_RETURNS = "camt/camt054-returns_p_ch5109000000250092291_1110097606_0_2020112500512470.xml"
FFFS_053 = "camt/FI_camt_053_sample.xml.xml"
FFFS_054 = "camt/FI_camt_054_sample.xml.xml"


def test_it_keeps_closing_booked_and_forward_available_apart_on_the_postfinance_statement():
    [statement] = camt.parse(sample(POSTFINANCE_053))
    assert statement.format == "camt.053"
    assert (statement.account, statement.currency) == ("CH2909000000250094239", "CHF")
    assert (statement.statement_id, statement.sequence) == ("20201124375204229003973", "118")
    assert statement.opening_booked == Balance(Decimal("211993.19"), dt.date(2020, 11, 24))
    assert statement.closing_booked == Balance(Decimal("215112.21"), dt.date(2020, 11, 24))
    assert statement.closing_available == Balance(Decimal("215112.21"), dt.date(2020, 11, 24))
    assert statement.forward_available == Balance(Decimal("216649.21"), dt.date(2020, 11, 25))
    assert len(statement.entries) == 5
    assert (statement.credit_total, statement.debit_total) == (Decimal("4733.72"), Decimal("77.70"))


def test_it_balances_the_postfinance_statement_on_value_dates():
    [statement] = camt.parse(sample(POSTFINANCE_053))
    next_day = [e for e in statement.entries if e.value_date == dt.date(2020, 11, 25)]
    assert [(e.amount, e.booking_date) for e in next_day] == [(Decimal("1537.00"), dt.date(2020, 11, 24))]
    check = check_balance(statement)
    # All booked entries give the forward available balance; the closing booked balance
    # leaves out the entry value-dated the next day.
    assert statement.opening_booked.amount + statement.credit_total - statement.debit_total == Decimal(
        "216649.21"
    )
    assert check.balanced is True
    assert check.expected_closing == check.actual_closing == Decimal("215112.21")
    assert "value-dated after 2020-11-24" in check.note


def test_it_reads_a_postfinance_entry_with_its_codes_and_references():
    [statement] = camt.parse(sample(POSTFINANCE_053))
    first, second = statement.entries[:2]
    assert (first.amount, first.direction, first.status) == (Decimal("4.50"), CREDIT, BOOKED)
    assert first.bank_reference == "0758103031480900"
    assert first.bank_transaction_code == "PMNT/IDDT/PMDD"
    assert first.remittance_info.startswith("GUTSCHRIFT CH-DD-BASISLASTSCHRIFT")
    assert (second.amount, second.direction) == (Decimal("77.70"), DEBIT)


def test_it_reads_the_intraday_report_and_finds_it_unbalanced():
    [report] = camt.parse(sample(POSTFINANCE_052))
    assert report.format == "camt.052"
    assert report.opening_booked.amount == Decimal("208509.19")
    assert report.closing_booked.amount == Decimal("207596.19")  # ITBD, the interim booked balance
    assert [(e.amount, e.direction) for e in report.entries] == [
        (Decimal("103.00"), DEBIT),
        (Decimal("913.00"), DEBIT),
    ]
    assert report.entries[0].end_to_end_id == "20190423001255000100005"
    check = check_balance(report)
    assert check.balanced is False
    assert check.expected_closing == Decimal("207493.19")
    assert check.difference == Decimal("103.00")


def test_it_reads_a_credit_notification_without_balances():
    [notification] = camt.parse(sample(POSTFINANCE_054_CREDIT))
    assert notification.format == "camt.054"
    assert notification.opening_booked is None and notification.closing_booked is None
    [entry] = notification.entries
    assert (entry.amount, entry.direction, entry.currency) == (Decimal("1500.00"), CREDIT, "CHF")
    assert (entry.booking_date, entry.value_date) == (dt.date(2019, 4, 24), dt.date(2019, 4, 25))
    assert entry.bank_transaction_code == "PMNT/RCDT/VCOM"
    assert check_balance(notification).balanced is None


def test_it_reads_the_esr_reference_of_a_direct_debit_notification():
    [notification] = camt.parse(sample(POSTFINANCE_054_ESR))
    batch, debit = notification.entries
    assert (batch.amount, batch.direction) == (Decimal("1537.00"), CREDIT)
    assert len(batch.raw["transactions"]) == 5  # a batch of ESR payments, one entry
    assert (debit.amount, debit.direction) == (Decimal("147.00"), DEBIT)
    assert debit.structured_reference == "100041698214115449371805270"


def test_it_reads_the_counterparty_of_a_returned_payment():
    [notification] = camt.parse(sample(POSTFINANCE_054_RETURNS))
    [entry] = notification.entries
    assert notification.account == "CH5109000000250092291"
    assert entry.end_to_end_id == "EndToEndId-001-03-04"
    assert entry.counterparty_name == "Robert Schneider SA"
    assert entry.counterparty_account == "CH8709000000929471495"
    assert entry.bank_transaction_code == "PMNT/ICDT/RRTN"


def test_it_reads_the_finnish_statement_of_account():
    [statement] = camt.parse(sample(FFFS_053))
    assert (statement.format, statement.account, statement.currency) == (
        "camt.053",
        "FI7433010001222090",
        "EUR",
    )
    assert statement.opening_booked.amount == Decimal("10000.00")
    assert statement.closing_booked.amount == Decimal("23644.83")
    assert statement.closing_available.amount == Decimal("33644.83")
    assert len(statement.entries) == 10
    assert (statement.credit_total, statement.debit_total) == (Decimal("23075.00"), Decimal("9430.17"))
    assert check_balance(statement).balanced is True
    by_reference = {e.bank_reference: e for e in statement.entries}
    sct = by_reference["091029ACCTSTMTARCH08"]
    assert (sct.end_to_end_id, sct.structured_reference, sct.counterparty_name) == (
        "EndToEndIdSCT01",
        "RF98123456789012",
        "DEBTOR",
    )
    assert by_reference["091029ACCTSTMTARCH06"].remittance_info == "INVOICE US20291092"


def test_it_reads_the_finnish_credit_advice_with_a_pending_entry():
    [notification] = camt.parse(sample(FFFS_054))
    assert notification.format == "camt.054"
    assert len(notification.entries) == 6
    pending = [e for e in notification.entries if e.status == PENDING]
    assert [(e.amount, e.bank_reference) for e in pending] == [(Decimal("100.00"), "091029ACCTSTMTERR01")]
    # Pending entries are not movements yet.
    assert (notification.credit_total, notification.debit_total) == (Decimal("5500.00"), Decimal("5230.05"))


def test_it_refuses_xml_that_is_not_well_formed_with_the_line():
    broken = sample(FFFS_053).replace(b"</Stmt>", b"</Stmnt>")
    with pytest.raises(StatementParseError, match=r"^Line \d+, column \d+: the XML is not well-formed"):
        camt.parse(broken)


def test_it_refuses_a_message_of_another_iso_20022_family():
    pain = b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>'
    with pytest.raises(StatementParseError, match="pain.001.001.03' is not an ISO 20022 camt"):
        camt.parse(pain)


def test_it_refuses_an_entry_without_its_credit_or_debit_mark():
    broken = sample(POSTFINANCE_053).replace(b"<CdtDbtInd>DBIT</CdtDbtInd>", b"", 1)
    with pytest.raises(StatementParseError) as excinfo:
        camt.parse(broken)
    assert excinfo.value.message == (
        "Line 110: <Stmt> 1 (20201124375204229003973), <Ntry> 2: <CdtDbtInd> is 'missing'; expected CRDT or DBIT."
    )


def test_it_refuses_an_entry_amount_that_is_not_a_number():
    broken = sample(POSTFINANCE_053).replace(b'<Amt Ccy="CHF">77.70</Amt>', b'<Amt Ccy="CHF">77,70</Amt>', 1)
    with pytest.raises(StatementParseError, match=r"<Ntry> 2: <Amt> '77,70' is not a number"):
        camt.parse(broken)


def test_it_refuses_entity_expansion():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&b;</Document>'
    )
    with pytest.raises(StatementParseError, match="refused for safety"):
        camt.parse(bomb)


def test_it_refuses_an_encoding_it_cannot_read():
    broken = sample(FFFS_053).replace(b'encoding="UTF-8"', b'encoding="UTF58"', 1)
    with pytest.raises(StatementParseError, match="declares a character encoding that cannot be read"):
        camt.parse(broken)


def test_it_names_the_line_of_an_entry_with_a_date_it_cannot_read():
    content = sample(POSTFINANCE_053)
    head, entries = content.split(b"<Ntry>", 1)
    broken = head + b"<Ntry>" + entries.replace(b"<Dt>2020-11-25</Dt>", b"<Dt>25.11.2020</Dt>")
    with pytest.raises(StatementParseError) as excinfo:
        camt.parse(broken)
    assert excinfo.value.message == (
        "Line 174: <Stmt> 1 (20201124375204229003973), <Ntry> 4, <ValDt>: '25.11.2020' is not an ISO date "
        "(YYYY-MM-DD)."
    )
