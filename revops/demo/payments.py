"""Demo cash: full, partial, over- and batch payments applied to invoices,
unidentified transfers parked as unapplied cash, and a few reversals."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from revops.demo.context import CustomerProfile, Demo
from revops.demo.invoicing import InvoicePlan
from revops.demo.names import stripe_id
from revops.models import Invoice, Payment
from revops.money import quantize
from revops.services.billing import invoice_mark_uncollectible
from revops.services.payments import payment_apply, payment_mark_unapplied, payment_receive, payment_reverse

Method = Payment.Method
DAY = dt.timedelta(days=1)

REVERSAL_REASONS = {
    Method.CARD: "Chargeback: the cardholder disputed the charge with their bank",
    Method.BANK_TRANSFER: "Returned by the bank: the transfer was recalled by the payer's bank",
    Method.DIRECT_DEBIT: "SEPA direct debit returned (MD06: refund requested by the debtor)",
    Method.CHECK: "Check returned unpaid: insufficient funds",
}


@dataclass
class PaymentPlan:
    entity_code: str
    currency: str
    received: dt.date
    amount: Decimal
    method: str
    gateway: str
    profile: CustomerProfile | None
    applications: list[tuple[Invoice, Decimal]] = field(default_factory=list)
    after: str = ""  # "reverse", "unapplied" or "" (leave as received or applied)
    memo: str = ""

    @property
    def sort_key(self):
        first = self.applications[0][0].number if self.applications else ""
        return (self.received, self.entity_code, first, self.amount)


def _settlement_day(demo: Demo, profile: CustomerProfile, invoice: Invoice) -> dt.date | None:
    """When the customer pays this invoice, or None if it is still unpaid today."""
    rng, today = demo.rng, demo.today
    if profile.fate == "on_hold" and invoice.issue_date >= today - dt.timedelta(days=150):
        return None  # stopped paying: that is why they are on hold
    if profile.fate != "closed" and rng.random() < 0.06:
        return None  # disputed or simply forgotten: overdue receivables
    delay = {
        "early": rng.randint(-20, -1),
        "on_time": rng.randint(-3, 5),
        "late": rng.randint(6, 55),
    }[profile.punctuality if profile.fate != "closed" else "on_time"]
    day = max(invoice.issue_date + DAY, invoice.due_date + dt.timedelta(days=delay))
    return day if day <= today else None


def _single(
    profile: CustomerProfile, invoice: Invoice, day: dt.date, amount: Decimal, memo: str = ""
) -> PaymentPlan:
    return PaymentPlan(
        entity_code=profile.entity_code,
        currency=invoice.currency,
        received=day,
        amount=amount,
        method=profile.method,
        gateway=profile.gateway,
        profile=profile,
        applications=[(invoice, min(amount, invoice.amount_due))],
        memo=memo,
    )


def _part_payment(demo: Demo, invoice: Invoice) -> Decimal:
    """30–70% of what is due."""
    return quantize(invoice.amount_due * Decimal(demo.rng.randint(3000, 7000)) / 10000, invoice.currency)


def _plan_invoice_payments(
    demo: Demo, invoices: list[InvoicePlan]
) -> tuple[list[PaymentPlan], list[Invoice]]:
    rng, scale = demo.rng, demo.options.customers
    unpaid: list[Invoice] = []
    due: list[tuple[CustomerProfile, Invoice, dt.date]] = []
    for plan in invoices:
        invoice = Invoice.objects.get(pk=plan.invoice.pk)  # credit notes changed what is due
        if invoice.status != Invoice.Status.OPEN:
            continue
        day = _settlement_day(demo, plan.profile, invoice)
        (due.append((plan.profile, invoice, day)) if day else unpaid.append(invoice))

    plans: list[PaymentPlan] = []
    # Batch payers settle two or three invoices with one transfer.
    by_customer: dict[int, list] = defaultdict(list)
    for item in due:
        by_customer[item[0].customer.pk].append(item)
    batch_customers = [items for items in by_customer.values() if items[0][0].batch_payer and len(items) >= 2]
    if not batch_customers and by_customer:
        # Always show at least one payment spread over several invoices.
        batch_customers = [max(by_customer.values(), key=lambda items: (len(items), items[0][1].number))]
    batched = {items[0][0].customer.pk for items in batch_customers}
    singles = [item for key, items in by_customer.items() if key not in batched for item in items]
    for items in batch_customers:
        index = 0
        while index < len(items):
            group = items[index : index + rng.randint(2, 3)]
            index += len(group)
            if len(group) == 1:
                singles.extend(group)
                continue
            profile, day = group[0][0], max(item[2] for item in group)
            plans.append(
                PaymentPlan(
                    entity_code=profile.entity_code,
                    currency=profile.currency,
                    received=day,
                    amount=sum((inv.amount_due for _, inv, _ in group), Decimal(0)),
                    method=profile.method,
                    gateway=profile.gateway,
                    profile=profile,
                    applications=[(inv, inv.amount_due) for _, inv, _ in group],
                    memo="Remittance: " + ", ".join(inv.number for _, inv, _ in group),
                )
            )

    singles.sort(key=lambda item: item[1].number)
    rng.shuffle(singles)
    partial_count = max(2, round(scale * 0.06))
    partial, singles = singles[:partial_count], singles[partial_count:]
    over_count = max(2, round(scale * 0.05))
    reverse_count = max(1, round(scale * 0.01))
    over, reverse = singles[:over_count], singles[over_count : over_count + reverse_count]
    rest = singles[over_count + reverse_count :]
    for index, (profile, invoice, day) in enumerate(partial):
        first = _part_payment(demo, invoice)
        plans.append(_single(profile, invoice, day, first, memo=f"Part payment of {invoice.number}"))
        later = day + dt.timedelta(days=rng.randint(10, 40))
        # Some customers pay the balance later; the first one has not yet.
        if index and later <= demo.today and rng.random() < 0.5:
            balance = invoice.amount_due - first
            plans.append(_single(profile, invoice, later, balance, memo=f"Balance of {invoice.number}"))
    for profile, invoice, day in over:
        extra = quantize(Decimal(rng.choice([25, 50, 100, 250])), invoice.currency)
        plans.append(
            _single(
                profile,
                invoice,
                day,
                invoice.amount_due + extra,
                memo="Paid more than invoiced; rest on account",
            )
        )
    for profile, invoice, day in reverse:
        plans.append(_single(profile, invoice, day, invoice.amount_due))
        plans[-1].after = "reverse"
    for profile, invoice, day in rest:
        plans.append(_single(profile, invoice, day, invoice.amount_due))
    return plans, unpaid


def _plan_unmatched(demo: Demo, unpaid: list[Invoice]) -> list[PaymentPlan]:
    """Transfers nobody has matched yet: unknown payers, prepayments, today's arrivals."""
    rng, today = demo.rng, demo.today
    plans = []
    per_entity = max(1, round(demo.options.customers * 0.015))
    for code in ("US01", "DE01"):
        entity = demo.entities[code]
        candidates = [inv for inv in unpaid if inv.legal_entity_id == entity.pk]
        for _ in range(per_entity):
            if candidates and rng.random() < 0.7:
                # The amount of an open invoice: a reconciliation can suggest the match.
                invoice = rng.choice(candidates)
                amount, payer = invoice.amount_due, invoice.customer.name.upper().replace(" ", "")[:14]
            else:
                amount, payer = (
                    quantize(Decimal(rng.randint(500, 20000)), entity.functional_currency),
                    "UNKNOWN",
                )
            plans.append(
                PaymentPlan(
                    entity_code=code,
                    currency=entity.functional_currency,
                    received=today - dt.timedelta(days=rng.randint(1, 25)),
                    amount=amount,
                    method=Method.BANK_TRANSFER,
                    gateway="bank",
                    profile=None,
                    after="unapplied",
                    memo=f"Incoming transfer without remittance advice; ordering party {payer!r}",
                )
            )
    active = [p for p in demo.profiles if p.fate == "active"]
    for profile in rng.sample(active, min(2, len(active))):
        plans.append(
            PaymentPlan(
                entity_code=profile.entity_code,
                currency=profile.currency,
                received=today - dt.timedelta(days=rng.randint(2, 10)),
                amount=quantize(Decimal(rng.randint(10, 60) * 100), profile.currency),
                method=Method.BANK_TRANSFER,
                gateway="bank",
                profile=profile,
                after="unapplied",
                memo="Prepayment for the coming renewal; no invoice issued yet",
            )
        )
    profile = rng.choice(active) if active else demo.profiles[0]
    plans.append(
        PaymentPlan(
            entity_code=profile.entity_code,
            currency=profile.currency,
            received=today,
            amount=quantize(Decimal(rng.randint(5, 30) * 100), profile.currency),
            method=Method.CHECK if profile.entity_code == "US01" else Method.BANK_TRANSFER,
            gateway="lockbox" if profile.entity_code == "US01" else "bank",
            profile=profile,
            memo="Arrived today; not yet applied",
        )
    )
    return plans


def _reference(demo: Demo, plan: PaymentPlan, sequence: int) -> str:
    if plan.gateway == "stripe":
        return stripe_id(demo.rng, "pi")
    if plan.gateway == "lockbox":
        return f"CHK{plan.received:%y%m%d}{sequence:05d}"
    if plan.entity_code == "DE01":
        return f"E2E-{plan.received:%Y%m%d}-{sequence:05d}"
    return f"ACH{plan.received:%y%m%d}{sequence:05d}"


def _execute(demo: Demo, plan: PaymentPlan) -> None:
    sequence = demo.next_number("payment", plan.entity_code)
    reference = _reference(demo, plan, sequence)
    payment = payment_receive(
        number=f"PAY-{plan.entity_code}-{sequence:05d}",
        legal_entity=demo.entities[plan.entity_code],
        amount=plan.amount,
        currency=plan.currency,
        received_date=plan.received,
        method=plan.method,
        customer=plan.profile.customer if plan.profile else None,
        gateway=plan.gateway,
        gateway_reference=reference,
        memo=plan.memo,
        actor=demo.actor,
        reason="Demo data: payment received",
    )
    if plan.gateway == "stripe":
        demo.link("stripe", "payment", reference, payment)
    for invoice, amount in plan.applications:
        payment_apply(
            payment=payment,
            invoice=invoice,
            amount=amount,
            applied_date=plan.received,
            actor=demo.actor,
            reason="Demo data: cash applied from the remittance",
        )
    if plan.after == "reverse":
        payment_reverse(payment=payment, actor=demo.actor, reason=REVERSAL_REASONS[plan.method])
    elif plan.after == "unapplied":
        payment_mark_unapplied(
            payment=payment,
            actor=demo.actor,
            reason="Could not be matched to an open invoice; parked as unapplied cash",
        )


def build_payments(demo: Demo, invoices: list[InvoicePlan]) -> int:
    plans, unpaid = _plan_invoice_payments(demo, invoices)
    plans += _plan_unmatched(demo, unpaid)
    plans.sort(key=lambda p: p.sort_key)
    for plan in plans:
        _execute(demo, plan)
    return len(plans)


def build_write_offs(demo: Demo) -> int:
    """Long-overdue invoices of customers on credit hold go to collections."""
    on_hold = [p.customer.pk for p in demo.profiles if p.fate == "on_hold"]
    overdue = Invoice.objects.filter(
        customer__in=on_hold,
        status=Invoice.Status.OPEN,
        due_date__lt=demo.today - dt.timedelta(days=75),
    ).order_by("issue_date", "number")
    count = 0
    for invoice in overdue:
        invoice_mark_uncollectible(
            invoice=invoice,
            actor=demo.actor,
            reason="More than 75 days past due while the customer is on credit hold; referred to collections",
        )
        count += 1
    return count
