"""Demo invoices for the past months of every signed contract, a few voided
duplicates, and credit notes. US01 bills with sales tax on top (exclusive);
DE01's prices include 19% VAT (inclusive)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from revops.demo.catalog import SUBSCRIPTION_SKUS
from revops.demo.context import CustomerProfile, Demo, add_months, long_date
from revops.demo.contracts import DAY, ContractPlan, period_starts
from revops.demo.names import stripe_id
from revops.demo.periods import PeriodLines
from revops.demo.usage import UsagePlan, plan_usage, record_usage
from revops.models import Contract, ContractLine, Invoice, InvoiceLine
from revops.money import quantize
from revops.services.billing import (
    CreditLineSpec,
    InvoiceLineSpec,
    credit_note_issue,
    invoice_create,
    invoice_void,
)


@dataclass
class InvoicePlan:
    profile: CustomerProfile
    contract: Contract
    period_start: dt.date
    period_end: dt.date
    lines: list[InvoiceLineSpec]
    issue: bool = True
    invoice: Invoice | None = None

    @property
    def sort_key(self):
        return (self.period_start, self.profile.entity_code, self.contract.number)


def _plan_invoices(demo: Demo, plans: list[ContractPlan], usage: UsagePlan) -> list[InvoicePlan]:
    signed = [p for p in plans if p.outcome != "draft"]
    lines_of: dict[int, list[ContractLine]] = defaultdict(list)
    contract_lines = ContractLine.objects.filter(contract__in=[p.contract.pk for p in signed])
    for line in contract_lines.select_related("product", "replaces").order_by("effective_from", "id"):
        lines_of[line.contract_id].append(line)
    result = []
    for plan in signed:
        contract = Contract.objects.get(pk=plan.contract.pk)  # end date after a cancellation
        periods = PeriodLines(
            lines=lines_of[contract.pk],
            months=plan.months,
            currency=plan.profile.currency,
            tax_rate=plan.profile.tax_rate,
            tax_jurisdiction=plan.profile.tax_jurisdiction,
            usage=usage.total,
        )
        previous = None
        for start in period_starts(contract.start_date, contract.end_date, plan.months, demo.today):
            end = add_months(start, plan.months) - DAY
            if contract.end_date:
                end = min(end, contract.end_date)
            if start >= demo.window_start:
                specs = periods.build(start, end, previous)
                if specs:
                    result.append(InvoicePlan(plan.profile, contract, start, end, specs))
            previous = start
    result.sort(key=lambda p: p.sort_key)
    return result


def _number(demo: Demo, entity_code: str) -> str:
    return f"INV-{entity_code}-{demo.next_number('invoice', entity_code):06d}"


def _create(demo: Demo, plan: InvoicePlan, issue: bool, memo: str = "") -> Invoice:
    profile = plan.profile
    notes = [text for text in (profile.tax_note, memo) if text]
    return invoice_create(
        number=_number(demo, profile.entity_code),
        customer=profile.customer,
        contract=plan.contract,
        issue_date=plan.period_start,
        period_start=plan.period_start,
        period_end=plan.period_end,
        lines=plan.lines,
        tax_mode=profile.tax_mode,
        issue=issue,
        memo="; ".join(notes)[:300],
        actor=demo.actor,
        reason="Demo data: billing run" if issue else "Demo data: billing run (draft awaiting review)",
    )


def build_invoices(demo: Demo, plans: list[ContractPlan]) -> list[InvoicePlan]:
    """Draw and record the usage the invoices bill, then create the invoices in date order."""
    rng, today = demo.rng, demo.today
    usage = plan_usage(demo, plans)
    record_usage(demo, usage)
    invoices = _plan_invoices(demo, plans, usage)
    settled_before = today - dt.timedelta(days=20)
    old_enough = [p for p in invoices if p.period_start <= settled_before]
    duplicated = {
        id(p)
        for p in rng.sample(old_enough, min(len(old_enough), max(1, round(demo.options.customers * 0.04))))
    }
    for plan in invoices:
        plan.issue = not (plan.period_start >= today - DAY and rng.random() < 0.6)
        plan.invoice = _create(demo, plan, plan.issue)
        if plan.issue and plan.profile.on_stripe:
            demo.link("stripe", "invoice", stripe_id(rng, "in"), plan.invoice)
        if id(plan) in duplicated:
            duplicate = _create(demo, plan, True, memo=f"Duplicate of {plan.invoice.number}")
            invoice_void(
                invoice=duplicate,
                actor=demo.actor,
                reason=f"Duplicate of {plan.invoice.number}: the billing run was retried after a timeout",
            )
    return invoices


CREDIT_REASONS = (
    ("sla", "Service credit: {hours}h platform outage on {day} missed the 99.9% availability commitment"),
    ("seats", "Seats billed above the contracted quantity"),
    ("goodwill", "Goodwill credit approved by Customer Success after a support escalation"),
    ("pricing", "Pricing correction: the order form's discount was not applied"),
)


def _partial_credit(
    demo: Demo, invoice: Invoice, lines: list[InvoiceLine], kind: str
) -> list[CreditLineSpec]:
    """Credit part of the invoice's largest subscription line: a few seats, or a share."""
    rng = demo.rng
    subscriptions = [line for line in lines if line.product and line.product.sku in SUBSCRIPTION_SKUS]
    seats = [line for line in subscriptions if line.product.sku.startswith("SEAT-") and line.quantity > 3]
    if kind == "seats" and seats:
        line = seats[0]
    else:
        line = max(subscriptions or lines, key=lambda item: (item.amount, -item.line_number))
    if line in seats:
        amount = quantize(line.unit_amount * rng.randint(1, 3), invoice.currency)
    else:
        amount = quantize(line.amount * Decimal(rng.randint(500, 2500)) / 10000, invoice.currency)
    if not 0 < amount < line.amount:
        return []  # a line too small to take a share of
    return [CreditLineSpec(description=f"Credit: {line.description}"[:300], amount=amount, invoice_line=line)]


def _credit_specs(demo: Demo, invoice: Invoice) -> tuple[list[CreditLineSpec], str]:
    rng = demo.rng
    lines = list(invoice.lines.select_related("product").order_by("line_number"))
    if rng.random() < 0.12:
        specs = [
            CreditLineSpec(
                description=f"Credit: {line.description}"[:300],
                amount=line.amount,
                tax_amount=line.tax_amount,
                invoice_line=line,
            )
            for line in lines
        ]
        return specs, "Invoice issued after the customer's cancellation notice; credited in full"
    kind, template = rng.choice(CREDIT_REASONS)
    outage = long_date(invoice.issue_date + dt.timedelta(days=rng.randint(1, 10)))
    return _partial_credit(demo, invoice, lines, kind), template.format(hours=rng.randint(2, 9), day=outage)


def build_credit_notes(demo: Demo, invoices: list[InvoicePlan]) -> int:
    """Credit notes on some issued invoices (one whose lines are too small to
    credit a share of is passed over for the next)."""
    rng, today = demo.rng, demo.today
    issued = [p for p in invoices if p.issue and p.period_start <= today - dt.timedelta(days=15)]
    candidates = rng.sample(issued, len(issued))
    wanted = max(2, round(demo.options.customers * 0.15))
    credits = []
    for plan in candidates:
        if len(credits) == wanted:
            break
        specs, reason = _credit_specs(demo, plan.invoice)
        if specs:
            day = plan.period_start + dt.timedelta(days=rng.randint(3, 14))
            credits.append((day, plan.invoice.number, plan, specs, reason))
    credits.sort(key=lambda item: item[:2])
    for day, _, plan, specs, reason in credits:
        code = plan.profile.entity_code
        credit_note_issue(
            invoice=plan.invoice,
            number=f"CN-{code}-{demo.next_number('credit_note', code):05d}",
            issue_date=day,
            lines=specs,
            actor=demo.actor,
            reason=reason,
        )
    return len(credits)
