"""Invoices and credit notes through the services: headers follow lines and tax mode."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import BusinessEvent, Invoice
from revops.services.billing import (
    CreditLineSpec,
    InvoiceLineSpec,
    credit_note_issue,
    invoice_create,
    invoice_void,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendor"
SYSTEM = Actor.for_system("billing", "billing import test")


def _invoice(customer=None, **kwargs):
    values = dict(
        number="INV-1",
        customer=customer or f.CustomerFactory(),
        issue_date=dt.date(2026, 3, 1),
        lines=[InvoiceLineSpec("Seats", 10, "12.50", tax_rate="8.875", tax_jurisdiction="NY")],
        actor=SYSTEM,
    )
    values.update(kwargs)
    return invoice_create(**values)


def test_it_adds_exclusive_tax_on_top_of_the_lines():
    invoice = _invoice(
        lines=[
            InvoiceLineSpec("Seats", 10, "12.50", tax_rate="8.875", tax_jurisdiction="NY"),
            InvoiceLineSpec("Setup", 1, "99.99", tax_rate="8.875", tax_jurisdiction="NY"),
        ]
    )
    assert invoice.subtotal == Decimal("224.99")
    assert invoice.tax_total == Decimal("11.09") + Decimal("8.87")
    assert invoice.total == invoice.subtotal + invoice.tax_total
    assert invoice.amount_due == invoice.total
    assert invoice.status == Invoice.Status.OPEN
    lines = list(invoice.lines.all())
    assert sum(line.amount for line in lines) == invoice.subtotal
    assert sum(line.tax_amount for line in lines) == invoice.tax_total


def test_it_keeps_an_inclusive_total_equal_to_its_subtotal_as_stripe_does():
    """Stripe's own inclusive 15 % VAT invoice: 40.00 with 5.22 tax included stays 40.00."""
    source = json.loads((FIXTURES / "stripe/invoice_in_fakefakefakefakefake0004.json").read_text())
    line = source["lines"]["data"][0]
    rate = Decimal(str(line["tax_rates"][0]["percentage"]))
    invoice = _invoice(
        tax_mode="inclusive",
        currency=source["currency"].upper(),
        lines=[InvoiceLineSpec("Gold plan", 1, Decimal(line["amount"]) / 100, tax_rate=rate)],
        expected_total=Decimal(source["total"]) / 100,
    )
    assert invoice.subtotal == Decimal(source["subtotal"]) / 100 == Decimal("40.00")
    assert invoice.tax_total == Decimal(source["tax"]) / 100 == Decimal("5.22")
    assert invoice.total == Decimal("40.00")


def test_it_refuses_a_stated_total_the_lines_do_not_add_up_to():
    with pytest.raises(DomainValidationError) as excinfo:
        _invoice(expected_total=Decimal("200.00"))
    assert "add up to 136.09 USD" in str(excinfo.value.message_dict["total"])
    assert not Invoice.objects.exists()


def test_it_refuses_an_invoice_without_lines_or_with_a_bad_rate():
    with pytest.raises(DomainValidationError):
        _invoice(lines=[])
    with pytest.raises(DomainValidationError) as excinfo:
        _invoice(lines=[InvoiceLineSpec("x", 1, 10, tax_rate="120")])
    assert "between 0 and 100" in str(excinfo.value)


def test_it_records_the_issue_event_with_the_contract_correlation_id():
    contract = f.ContractFactory()
    invoice = _invoice(customer=contract.customer, contract=contract)
    assert invoice.correlation_id == contract.correlation_id
    event = BusinessEvent.objects.get(type="invoice.issued")
    assert event.correlation_id == contract.correlation_id
    assert event.source == "billing"


def test_it_refuses_a_contract_of_another_customer():
    with pytest.raises(DomainValidationError) as excinfo:
        _invoice(contract=f.ContractFactory())
    assert "belongs to another customer" in str(excinfo.value)


def test_it_reduces_the_amount_due_by_a_credit_note():
    invoice = _invoice()
    line = invoice.lines.get()
    note = credit_note_issue(
        invoice=invoice,
        number="CN-1",
        issue_date=dt.date(2026, 3, 10),
        lines=[CreditLineSpec("Outage credit", "25.00", invoice_line=line)],
        actor=SYSTEM,
        reason="Service outage on 2026-03-04",
    )
    invoice.refresh_from_db()
    assert note.tax_total == Decimal("2.22")
    assert note.total == Decimal("27.22")
    assert invoice.amount_credited == note.total
    assert invoice.amount_due == invoice.total - note.total


def test_it_refuses_to_credit_more_than_is_due():
    invoice = _invoice()
    with pytest.raises(DomainValidationError) as excinfo:
        credit_note_issue(
            invoice=invoice,
            number="CN-1",
            issue_date=dt.date(2026, 3, 10),
            lines=[CreditLineSpec("Too much", "500.00")],
            actor=SYSTEM,
            reason="typo",
        )
    assert "refund the payment instead" in str(excinfo.value)
    invoice.refresh_from_db()
    assert invoice.amount_credited == 0


def test_it_voids_an_unpaid_invoice_and_owes_nothing():
    invoice = invoice_void(invoice=_invoice(), actor=SYSTEM, reason="Issued in error")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert invoice.amount_due == 0
    assert invoice.total == Decimal("136.09")
    assert invoice.history.first().history_change_reason == "Issued in error"
