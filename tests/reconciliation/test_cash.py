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
