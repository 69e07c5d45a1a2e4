"""Writes for payments and their applications to invoices.

Invariants kept here and in the database: the sum applied never exceeds the
payment; an invoice's paid amount, amount due and status follow its active
applications and credit notes. Rows are locked payment first, then invoice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from revops.actors import Actor
from revops.errors import field_error
from revops.models import Customer, Invoice, LegalEntity, Payment, PaymentApplication
from revops.models.base import stamp
from revops.money import MoneyError, check_currency, money_text, quantize, to_decimal
from revops.services.billing import invoice_recalculate
from revops.services.events import event_record

ZERO = Decimal(0)
APPLICABLE_INVOICE_STATUSES = (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE)


@transaction.atomic
def payment_receive(
    *,
    number: str,
    legal_entity: LegalEntity,
    amount: Decimal | str,
    currency: str,
    received_date: dt.date,
    method: str,
    customer: Customer | None = None,
    gateway: str = "",
    gateway_reference: str = "",
    memo: str = "",
    actor: Actor,
    reason: str = "Payment received",
) -> Payment:
    try:
        check_currency(currency)
        amount = quantize(to_decimal(amount), currency)
    except MoneyError as exc:
        raise field_error("amount", str(exc)) from None
    if amount <= 0:
        raise field_error("amount", "A payment amount must be positive; record a refund or reversal instead.")
    if method not in Payment.Method.values:
        raise field_error("method", f"Unknown payment method {method!r}.")
    if Payment.objects.filter(number=number).exists():
        raise field_error("number", f"Payment {number} already exists.")
    if (
        gateway_reference
        and Payment.objects.filter(gateway=gateway, gateway_reference=gateway_reference).exists()
    ):
        raise field_error(
            "gateway_reference",
            f"{gateway or 'The gateway'} reference {gateway_reference} is already "
            "recorded on another payment.",
        )
    if customer is not None and customer.legal_entity_id != legal_entity.pk:
        raise field_error("customer", f"{customer} belongs to another legal entity.")
    payment = Payment(
        number=number,
        customer=customer,
        legal_entity=legal_entity,
        amount=amount,
        currency=currency,
        received_date=received_date,
        method=method,
        gateway=gateway,
        gateway_reference=gateway_reference,
        memo=memo,
    )
    stamp(payment, actor, reason)
    payment.save()
    event_record(
        type="payment.received",
        subject=payment,
        actor=actor,
        correlation_id=payment.correlation_id,
        payload={
            "amount": amount,
            "currency": currency,
            "method": method,
            "gateway_reference": gateway_reference,
        },
    )
    return payment


def _refresh_payment(payment: Payment, actor: Actor, reason: str) -> Payment:
    applied = (
        PaymentApplication.objects.filter(payment=payment, status=PaymentApplication.Status.ACTIVE).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    payment.amount_applied = applied
    if payment.status != Payment.Status.REVERSED:
        if applied == payment.amount:
            payment.status = Payment.Status.APPLIED
        elif applied > 0:
            payment.status = Payment.Status.PARTIALLY_APPLIED
        else:
            payment.status = Payment.Status.UNAPPLIED
    stamp(payment, actor, reason)
    payment.save()
    return payment


@transaction.atomic
def payment_apply(
    *,
    payment: Payment,
    invoice: Invoice,
    actor: Actor,
    amount: Decimal | str | None = None,
    applied_date: dt.date | None = None,
    reason: str = "Payment applied",
) -> PaymentApplication:
    """Apply (part of) a payment to an invoice. Without `amount`, applies as much
    as both allow: the smaller of the unapplied cash and the amount due."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if payment.status == Payment.Status.REVERSED:
        raise field_error("payment", f"Payment {payment.number} was reversed and cannot be applied.")
    if invoice.status not in APPLICABLE_INVOICE_STATUSES:
        raise field_error(
            "invoice", f"Invoice {invoice.number} is {invoice.status}; only open invoices take payments."
        )
    if payment.currency != invoice.currency:
        raise field_error(
            "invoice",
            f"Payment is in {payment.currency} but invoice {invoice.number} is in {invoice.currency}.",
        )
    if payment.legal_entity_id != invoice.legal_entity_id:
        raise field_error("invoice", f"Invoice {invoice.number} belongs to another legal entity.")
    if payment.customer_id is not None and payment.customer_id != invoice.customer_id:
        raise field_error(
            "invoice", f"Invoice {invoice.number} belongs to another customer than the payment."
        )
    unapplied = payment.amount - payment.amount_applied
    if amount is None:
        amount = min(unapplied, invoice.amount_due)
    try:
        amount = quantize(to_decimal(amount), payment.currency)
    except MoneyError as exc:
        raise field_error("amount", str(exc)) from None
    if amount <= 0:
        raise field_error("amount", "Nothing to apply: the amount must be positive.")
    if amount > unapplied:
        raise field_error(
            "amount", f"Only {money_text(unapplied, payment.currency)} of {payment.number} is unapplied."
        )
    if amount > invoice.amount_due:
        raise field_error(
            "amount", f"Only {money_text(invoice.amount_due, invoice.currency)} is due on {invoice.number}."
        )

    first_application = payment.amount_applied == 0 and not payment.applications.exists()
    if payment.customer_id is None:
        payment.customer = invoice.customer  # applying the cash identifies the payer
    if first_application:
        payment.correlation_id = invoice.correlation_id
    application = PaymentApplication.objects.filter(
        payment=payment, invoice=invoice, status=PaymentApplication.Status.ACTIVE
    ).first()
    if application is None:
        application = PaymentApplication(
            payment=payment, invoice=invoice, amount=amount, applied_date=applied_date or timezone.localdate()
        )
    else:
        application.amount += amount
    stamp(application, actor, reason)
    application.save()
    _refresh_payment(payment, actor, f"{reason}: {amount} to {invoice.number}")
    invoice_recalculate(invoice, actor, f"{reason}: {amount} from {payment.number}")
    event_record(
        type="payment.applied",
        subject=payment,
        actor=actor,
        correlation_id=invoice.correlation_id,
        payload={"invoice": invoice.number, "amount": amount, "currency": payment.currency},
    )
    return application


@transaction.atomic
def payment_unapply(*, application: PaymentApplication, actor: Actor, reason: str) -> PaymentApplication:
    payment = Payment.objects.select_for_update().get(pk=application.payment_id)
    invoice = Invoice.objects.select_for_update().get(pk=application.invoice_id)
    application = PaymentApplication.objects.select_for_update().get(pk=application.pk)
    if application.status == PaymentApplication.Status.REVERSED:
        return application
    if not reason.strip():
        raise field_error("reason", "Say why the application is reversed.")
    application.status = PaymentApplication.Status.REVERSED
    application.reversed_at = timezone.now()
    stamp(application, actor, reason)
    application.save()
    _refresh_payment(payment, actor, reason)
    invoice_recalculate(invoice, actor, reason)
    event_record(
        type="payment.unapplied",
        subject=payment,
        actor=actor,
        correlation_id=invoice.correlation_id,
        payload={"invoice": invoice.number, "amount": application.amount, "reason": reason},
    )
    return application


@transaction.atomic
def payment_mark_unapplied(*, payment: Payment, actor: Actor, reason: str) -> Payment:
    """Record that a received payment could not be matched and sits on account."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.RECEIVED:
        return payment
    payment.status = Payment.Status.UNAPPLIED
    stamp(payment, actor, reason)
    payment.save()
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, actor: Actor, reason: str) -> Payment:
    """Reverse a payment (bounced, charged back, refunded): its applications are
    reversed first, so the invoices it paid are open again."""
    if not reason.strip():
        raise field_error("reason", "Say why the payment is reversed.")
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status == Payment.Status.REVERSED:
        return payment
    for application in payment.applications.filter(status=PaymentApplication.Status.ACTIVE):
        payment_unapply(application=application, actor=actor, reason=f"Payment reversed: {reason}")
    payment.refresh_from_db()
    payment.status = Payment.Status.REVERSED
    stamp(payment, actor, reason)
    payment.save()
    event_record(
        type="payment.reversed",
        subject=payment,
        actor=actor,
        correlation_id=payment.correlation_id,
        payload={"reason": reason},
    )
    return payment
