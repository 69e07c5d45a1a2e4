"""Payments and applications: full, partial, over, several invoices, unapplied, reversed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import BusinessEvent, Invoice, Payment, PaymentApplication
from revops.services.billing import InvoiceLineSpec, invoice_create
from revops.services.payments import (
    payment_apply,
    payment_mark_unapplied,
    payment_receive,
    payment_reverse,
    payment_unapply,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

CASHIER = Actor.for_system("bank", "cash application test")


@pytest.fixture
def customer():
    return f.CustomerFactory()


def _invoice(customer, number="INV-1", amount="100.00"):
    return invoice_create(
        number=number,
        customer=customer,
        issue_date=dt.date(2026, 3, 1),
        lines=[InvoiceLineSpec("Platform fee", 1, amount)],
        actor=CASHIER,
    )


def _payment(customer, amount, number="PAY-1", **kwargs):
    return payment_receive(
        number=number,
        legal_entity=customer.legal_entity,
        customer=customer,
        amount=amount,
        currency="USD",
        received_date=dt.date(2026, 3, 20),
        method="bank_transfer",
        actor=CASHIER,
        **kwargs,
    )


def _fresh(*objs):
    for obj in objs:
        obj.refresh_from_db()


def test_it_pays_an_invoice_in_full(customer):
    invoice, payment = _invoice(customer), _payment(customer, "100.00")
    payment_apply(payment=payment, invoice=invoice, actor=CASHIER)
    _fresh(invoice, payment)
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("paid", Decimal("100"), 0)
    assert (payment.status, payment.amount_applied) == ("applied", Decimal("100"))


def test_it_leaves_a_partly_paid_invoice_open(customer):
    invoice, payment = _invoice(customer), _payment(customer, "40.00")
    payment_apply(payment=payment, invoice=invoice, actor=CASHIER)
    _fresh(invoice, payment)
    assert (invoice.status, invoice.amount_due) == ("open", Decimal("60"))
    assert payment.status == Payment.Status.APPLIED


def test_it_keeps_the_rest_of_an_overpayment_unapplied(customer):
    invoice, payment = _invoice(customer), _payment(customer, "120.00")
    payment_apply(payment=payment, invoice=invoice, actor=CASHIER)
    _fresh(invoice, payment)
    assert invoice.status == Invoice.Status.PAID
    assert payment.status == Payment.Status.PARTIALLY_APPLIED
    assert payment.amount_unapplied == Decimal("20")


def test_it_spreads_one_payment_over_several_invoices(customer):
    first, second = _invoice(customer, "INV-1", "100.00"), _invoice(customer, "INV-2", "50.00")
    payment = _payment(customer, "150.00")
    payment_apply(payment=payment, invoice=first, actor=CASHIER)
    payment_apply(payment=payment, invoice=second, actor=CASHIER)
    _fresh(first, second, payment)
    assert first.status == second.status == "paid"
    assert payment.status == Payment.Status.APPLIED
    assert payment.applications.count() == 2


def test_it_never_applies_more_than_the_payment_or_the_amount_due(customer):
    invoice, payment = _invoice(customer), _payment(customer, "80.00")
    with pytest.raises(DomainValidationError) as excinfo:
        payment_apply(payment=payment, invoice=invoice, amount="90.00", actor=CASHIER)
    assert "Only 80.00 USD of PAY-1 is unapplied" in str(excinfo.value)
    big = _payment(customer, "500.00", number="PAY-2")
    with pytest.raises(DomainValidationError) as excinfo:
        payment_apply(payment=big, invoice=invoice, amount="150.00", actor=CASHIER)
    assert "Only 100.00 USD is due on INV-1" in str(excinfo.value)
    assert not PaymentApplication.objects.exists()


def test_it_refuses_a_payment_in_another_currency(customer):
    invoice = _invoice(customer)
    payment = payment_receive(
        number="PAY-EUR",
        legal_entity=customer.legal_entity,
        customer=customer,
        amount="100",
        currency="EUR",
        received_date=dt.date(2026, 3, 20),
        method="card",
        actor=CASHIER,
    )
    with pytest.raises(DomainValidationError) as excinfo:
        payment_apply(payment=payment, invoice=invoice, actor=CASHIER)
    assert "EUR" in str(excinfo.value) and "USD" in str(excinfo.value)


def test_it_identifies_the_payer_when_unidentified_cash_is_applied(customer):
    invoice = _invoice(customer)
    payment = payment_receive(
        number="PAY-X",
        legal_entity=customer.legal_entity,
        amount="100",
        currency="USD",
        received_date=dt.date(2026, 3, 20),
        method="bank_transfer",
        actor=CASHIER,
    )
    payment_mark_unapplied(payment=payment, actor=CASHIER, reason="No remittance advice")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.UNAPPLIED
    payment_apply(payment=payment, invoice=invoice, actor=CASHIER)
    payment.refresh_from_db()
    assert payment.customer == customer
    assert payment.correlation_id == invoice.correlation_id


def test_it_reopens_the_invoice_when_a_payment_is_reversed(customer):
    invoice, payment = _invoice(customer), _payment(customer, "100.00")
    payment_apply(payment=payment, invoice=invoice, actor=CASHIER)
    payment_reverse(payment=payment, actor=CASHIER, reason="Chargeback")
    _fresh(invoice, payment)
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("open", Decimal("100"), 0)
    assert (payment.status, payment.amount_applied) == ("reversed", 0)
    assert payment.applications.get().status == PaymentApplication.Status.REVERSED
    with pytest.raises(DomainValidationError):
        payment_apply(payment=payment, invoice=invoice, actor=CASHIER)


def test_it_unapplies_one_application(customer):
    invoice, payment = _invoice(customer), _payment(customer, "100.00")
    application = payment_apply(payment=payment, invoice=invoice, actor=CASHIER)
    payment_unapply(application=application, actor=CASHIER, reason="Applied to the wrong invoice")
    _fresh(invoice, payment)
    assert invoice.status == "open" and payment.status == "unapplied"


def test_it_shares_one_correlation_id_from_contract_to_payment(customer):
    contract = f.ContractFactory(customer=customer)
    invoice = invoice_create(
        number="INV-C",
        customer=customer,
        contract=contract,
        issue_date=dt.date(2026, 3, 1),
        lines=[InvoiceLineSpec("Seats", 1, "100")],
        actor=CASHIER,
    )
    payment = _payment(customer, "100.00")
    payment_apply(payment=payment, invoice=invoice, actor=CASHIER)
    types = set(
        BusinessEvent.objects.filter(correlation_id=contract.correlation_id).values_list("type", flat=True)
    )
    assert {"invoice.issued", "payment.applied"} <= types


def test_it_refuses_a_duplicate_gateway_reference(customer):
    _payment(customer, "10", gateway="stripe", gateway_reference="pi_1")
    with pytest.raises(DomainValidationError) as excinfo:
        _payment(customer, "10", number="PAY-2", gateway="stripe", gateway_reference="pi_1")
    assert "pi_1" in str(excinfo.value)
    assert Payment.objects.count() == 1


def test_it_refuses_a_zero_or_negative_payment(customer):
    with pytest.raises(DomainValidationError):
        _payment(customer, "0")
    with pytest.raises(DomainValidationError):
        _payment(customer, "-5")
    assert not Payment.objects.exists()
