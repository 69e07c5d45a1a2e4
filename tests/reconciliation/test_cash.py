"""Cash application against real bank statement entries, and the statement's
cash-application page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from exceptions_queue.models import ExceptionItem
from reconciliation import services
from reconciliation.cash import CASH_RULES
from reconciliation.models import Kind
from reconciliation.statements.models import BankEntry, BankStatement, StatementFile
from tests import factories as f
from tests.reconciliation.conftest import ADMIN, DAY, invoice, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def cash_recon(db):
    recon = services.reconciliation_save(
        name="Bank ⇄ invoices", kind=Kind.CASH_APPLICATION, lookback_days=3000, actor=ADMIN, reason="test"
    )
    for rule in CASH_RULES:
        services.rule_save(reconciliation=recon, actor=ADMIN, reason="test", **rule)
    return recon


def statement(*entries, reconcilable=True):
    file = StatementFile.objects.create(
        original_name="march.xml",
        sha256=f"{StatementFile.objects.count():064d}",
        format="camt.053",
        size=1,
        uploaded_by_label="test",
    )
    st = BankStatement.objects.create(
        file=file,
        format="camt.053",
        account="DE89370400440532013000",
        currency="USD",
        bank_statement_id=f"ST-{file.pk}",
        period_start=DAY,
        period_end=DAY + dt.timedelta(days=40),
        reconcilable=reconcilable,
    )
    for n, values in enumerate(entries, start=1):
        BankEntry.objects.create(
            statement=st,
            sequence=n,
            booking_date=values.get("date", DAY + dt.timedelta(days=30)),
            value_date=values.get("date", DAY + dt.timedelta(days=30)),
            amount=Decimal(values["amount"]),
            direction=values.get("direction", "credit"),
            currency="USD",
            structured_reference=values.get("ref", ""),
            remittance_info=values.get("remittance", ""),
            counterparty_name=values.get("payer", ""),
        )
    return st


@pytest.fixture
def payer(db):
    return f.CustomerFactory(number="C-500", name="Hooli Cloud LLC")


def test_a_credit_naming_its_invoice_is_applied_automatically(cash_recon, payer):
    inv = invoice(payer, "INV-500", total="1200.00", tax="0")
    statement(
        {"amount": "1200.00", "remittance": "Payment inv 500 INV-500 thanks", "payer": "HOOLI CLOUD LLC"}
    )
    result = run(cash_recon)
    line = result.lines.get(outcome="matched")
    assert line.right_id == inv.pk and line.left_customer == "C-500"


def test_one_credit_paying_several_invoices_is_one_group(cash_recon, payer):
    for number in ("INV-501", "INV-502"):
        invoice(payer, number, total="100.00", tax="0")
    statement({"amount": "200.00", "remittance": "INV-501 / INV-502", "payer": "Hooli Cloud LLC"})
    result = run(cash_recon)
    assert result.matched_groups == 1 and result.lines.filter(outcome="matched").count() == 2


def test_a_bank_fee_is_matched_and_a_partial_payment_only_suggested(cash_recon, payer):
    invoice(payer, "INV-503", total="500.00", tax="0")
    invoice(payer, "INV-504", total="800.00", tax="0")
    statement(
        {"amount": "492.50", "ref": "INV-503", "payer": "Hooli Cloud LLC"},
        {"amount": "400.00", "ref": "INV-504", "payer": "Hooli Cloud LLC"},
    )
    result = run(cash_recon)
    assert {line.right_reference: line.outcome for line in result.lines.exclude(right_key="")} == {
        "INV-503": "matched",
        "INV-504": "suggested",
    }


def test_debits_and_statements_not_reconcilable_are_left_out(cash_recon, payer):
    invoice(payer, "INV-505", total="10.00", tax="0")
    statement({"amount": "10.00", "ref": "INV-505", "direction": "debit"})
    statement({"amount": "10.00", "ref": "INV-505"}, reconcilable=False)
    assert run(cash_recon).left_count == 0


def test_the_statement_page_shows_each_credit_with_its_invoice(client, auditor, cash_recon, payer):
    invoice(payer, "INV-506", total="75.00", tax="0")
    st = statement({"amount": "75.00", "ref": "INV-506", "payer": "Hooli Cloud LLC"}, {"amount": "9.99"})
    run(cash_recon)
    client.force_login(auditor)
    page = client.get(reverse("reconciliation:statement_cash", args=[st.pk])).content.decode()
    assert "INV-506" in page and "Matched" in page and "Unmatched" in page
    assert "1 of 2 credits are not applied yet" in page


def test_the_cash_reconciliation_links_to_each_statements_cash_application(client, auditor, cash_recon):
    st = statement({"amount": "1.00"})
    client.force_login(auditor)
    page = client.get(reverse("reconciliation:detail", args=[cash_recon.pk])).content.decode()
    assert reverse("reconciliation:statement_cash", args=[st.pk]) in page


def test_an_unapplied_credit_is_a_break_about_its_bank_entry(client, analyst, cash_recon, payer):
    st = statement({"amount": "42.00", "remittance": "no idea", "payer": "Somebody Else"})
    result = run(cash_recon)
    item = ExceptionItem.objects.get(code="RECONCILIATION_BREAK")
    assert result.breaks_opened == 1 and item.subject == st.entries.get()
    client.force_login(analyst)
    assert client.get(reverse("exceptions_queue:detail", args=[item.pk])).status_code == 200


BATCH_CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>BATCH-1</MsgId><CreDtTm>2026-04-10T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>STMT-BATCH-1</Id>
   <CreDtTm>2026-04-10T06:00:00</CreDtTm>
   <FrToDt><FrDtTm>2026-04-09T00:00:00</FrDtTm><ToDtTm>2026-04-09T23:59:59</ToDtTm></FrToDt>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>USD</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">1000.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-09</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">1500.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-09</Dt></Dt></Bal>
   <Ntry>
    <Amt Ccy="USD">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-04-09</Dt></BookgDt><ValDt><Dt>2026-04-09</Dt></ValDt>
    <AcctSvcrRef>BATCH-0001</AcctSvcrRef><AddtlNtryInf>Collective credit, 2 transactions</AddtlNtryInf>
    <NtryDtls>
     <TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
      <AmtDtls><TxAmt><Amt Ccy="USD">200.00</Amt></TxAmt></AmtDtls>
      <RltdPties><Dbtr><Nm>Hooli Cloud LLC</Nm></Dbtr></RltdPties>
      <RmtInf><Ustrd>Invoice INV-601</Ustrd></RmtInf></TxDtls>
     <TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
      <AmtDtls><TxAmt><Amt Ccy="USD">300.00</Amt></TxAmt></AmtDtls>
      <RltdPties><Dbtr><Nm>Hooli Cloud LLC</Nm></Dbtr></RltdPties>
      <RmtInf><Ustrd>Invoice INV-602</Ustrd></RmtInf></TxDtls>
    </NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def test_a_batch_credit_is_applied_to_the_invoices_its_transactions_name(cash_recon, payer):
    from reconciliation.statements.services import statement_import
    from revops.actors import Actor

    first = invoice(payer, "INV-601", total="200.00", tax="0", issue_date=dt.date(2026, 3, 20))
    second = invoice(payer, "INV-602", total="300.00", tax="0", issue_date=dt.date(2026, 3, 20))
    imported = statement_import(
        content=BATCH_CAMT.encode(), filename="batch.xml", actor=Actor.for_system("tests", "bank import")
    )
    [outcome] = imported.statements
    entry = outcome.statement.entries.get()
    # One credit for both: the entry itself names no invoice, each of its transactions does.
    assert (entry.amount, entry.remittance_info) == (Decimal("500.00"), "Collective credit, 2 transactions")
    done = run(cash_recon)
    assert (done.matched_groups, done.left_unmatched) == (1, 0)
    assert not ExceptionItem.objects.filter(code="RECONCILIATION_BREAK").exists()
    assert {first.pk, second.pk} == set(
        done.lines.filter(outcome="matched").exclude(right_id=None).values_list("right_id", flat=True)
    )


def test_the_statement_page_lists_the_transactions_of_a_batch_entry(client, analyst):
    from reconciliation.statements.services import statement_import
    from revops.actors import Actor

    imported = statement_import(
        content=BATCH_CAMT.encode(), filename="batch.xml", actor=Actor.for_user(analyst)
    )
    client.force_login(analyst)
    page = client.get(
        reverse("statements:detail", args=[imported.statements[0].statement.pk])
    ).content.decode()
    assert "2 transactions in this booking" in page
    assert "Invoice INV-601" in page and "300.00 USD" in page
