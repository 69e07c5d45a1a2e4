"""Stripe payment intents, charges and refunds → PaymentRecord / RefundRecord (pure)."""

from __future__ import annotations

from decimal import Decimal

from connectors.records import PaymentRecord, RefundRecord
from connectors.stripe._reader import Reader, dig, id_of, required_date, to_major, version_of

PAYMENT_METHODS = {
    "card": "card",
    "card_present": "card",
    "interac_present": "card",
    "sepa_debit": "direct_debit",
    "us_bank_account": "direct_debit",
    "ach_debit": "direct_debit",
    "bacs_debit": "direct_debit",
    "au_becs_debit": "direct_debit",
    "acss_debit": "direct_debit",
    "nz_bank_account": "direct_debit",
    "customer_balance": "bank_transfer",
    "bank_transfer": "bank_transfer",
    "ach_credit_transfer": "bank_transfer",
    "sepa_credit_transfer": "bank_transfer",
}

PAYMENT_INTENT_STATUSES = {
    "succeeded": "succeeded",
    "processing": "pending",
    "requires_action": "pending",
    "requires_confirmation": "pending",
    "requires_capture": "pending",
    "requires_payment_method": "pending",  # "failed" when an attempt was declined, below
    "canceled": "failed",  # no money moved
}

CHARGE_STATUSES = {"succeeded": "succeeded", "pending": "pending", "failed": "failed"}


def map_payment_intent(intent: dict) -> PaymentRecord:
    r = Reader(intent, "payment_intent")
    external_id = r.id()
    currency = r.currency()
    charge = _latest_charge(r)
    amount = r.money("amount", currency)
    if r.at("status") == "succeeded" and r.number("amount_received", "amount received"):
        amount = r.money("amount_received", currency, "amount received")  # partial capture
    refunded = (
        _charge_reader(r, charge).money_or_zero("amount_refunded", currency)
        if charge
        else to_major(Decimal(0), currency)
    )
    return PaymentRecord(
        external_id=external_id,
        amount=amount,
        currency=currency,
        received_date=required_date(r, "created"),
        status=_payment_intent_status(r, amount, refunded),
        method=_intent_method(r, charge),
        customer_external_id=id_of(r.at("customer")),
        invoice_external_id=id_of(r.at("invoice")),
        gateway_reference=id_of(charge) or id_of(r.at("latest_charge")) or external_id,
        amount_refunded=refunded,
        version=version_of(intent),
    )


def _latest_charge(r: Reader) -> dict | None:
    """The charge behind the intent, when Stripe included it (expanded `latest_charge`,
    or the `charges` list of API versions before 2022-11-15)."""
    latest = r.at("latest_charge")
    if isinstance(latest, dict):
        return latest
    charges = [c for c in (r.at("charges.data") or []) if isinstance(c, dict)]
    for charge in charges:
        if charge.get("id") == latest:
            return charge
    return max(charges, key=lambda c: c.get("created") or 0) if charges else None


def _charge_reader(r: Reader, charge: dict) -> Reader:
    reader = Reader(charge, "charge")
    reader.label = f"{r.label}: charge {charge.get('id') or '(without id)'}"
    return reader


def _payment_intent_status(r: Reader, amount: Decimal, refunded: Decimal) -> str:
    status = r.choice("status", PAYMENT_INTENT_STATUSES, "status")
    if r.at("status") == "requires_payment_method" and r.at("last_payment_error") is not None:
        return "failed"
    if status == "succeeded" and amount and refunded >= amount:
        return "refunded"
    return status


def _intent_method(r: Reader, charge: dict | None) -> str:
    if charge is not None:
        method = _charge_method(charge)
        if method != "other":
            return method
    types = r.at("payment_method_types") or []
    # Several types means the customer could choose; which one paid is only on the charge.
    return PAYMENT_METHODS.get(types[0], "other") if len(types) == 1 else "other"


def _charge_method(charge: dict) -> str:
    kind = dig(charge, "payment_method_details.type")
    if kind is None and isinstance(charge.get("source"), dict):
        # Legacy charges on a card or Source object carry no payment_method_details.
        source = charge["source"]
        kind = "card" if source.get("object") == "card" else source.get("type")
    return PAYMENT_METHODS.get(kind, "other")


def map_charge(charge: dict) -> PaymentRecord:
    """A charge made through a PaymentIntent is the same payment as the intent: it maps to
    the intent's id so the two never count the same cash twice. A legacy charge is its own payment."""
    r = Reader(charge, "charge")
    charge_id = r.id()
    currency = r.currency()
    amount = r.money("amount", currency)
    refunded = r.money_or_zero("amount_refunded", currency, "amount refunded")
    status = r.choice("status", CHARGE_STATUSES, "status")
    if status == "succeeded" and (r.at("refunded") is True or (amount and refunded >= amount)):
        status = "refunded"
    return PaymentRecord(
        external_id=id_of(r.at("payment_intent")) or charge_id,
        amount=amount,
        currency=currency,
        received_date=required_date(r, "created"),
        status=status,
        method=_charge_method(charge),
        customer_external_id=id_of(r.at("customer")),
        invoice_external_id=id_of(r.at("invoice")),
        gateway_reference=charge_id,
        amount_refunded=refunded,
        version=version_of(charge),
    )


REFUND_STATUSES = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "canceled",
}


def map_refund(refund: dict) -> RefundRecord:
    r = Reader(refund, "refund")
    currency = r.currency()
    # Same key as map_charge: the intent when there is one, else the charge.
    payment = id_of(r.at("payment_intent")) or id_of(r.at("charge"))
    if payment is None:
        raise r.fail("is not linked to a payment", "charge", expected="a charge or payment intent id")
    return RefundRecord(
        external_id=r.id(),
        payment_external_id=payment,
        amount=r.money("amount", currency),
        currency=currency,
        status=r.choice("status", REFUND_STATUSES, "status"),
        created=required_date(r, "created"),
        reason=r.text("reason"),
        version=version_of(refund),
    )
