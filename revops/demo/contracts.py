"""Demo contracts: signed, renewed, amended mid-term, cancelled and expired."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from revops.demo.catalog import USAGE_SKUS
from revops.demo.context import CustomerProfile, Demo, add_months, long_date, month_start
from revops.demo.names import base62, salesforce_id, stripe_id
from revops.models import Contract, ContractLine
from revops.money import quantize
from revops.services.contracts import (
    LineChange,
    LineSpec,
    contract_activate,
    contract_amend,
    contract_cancel,
    contract_create,
    contracts_expire_due,
)

Freq = Contract.BillingFrequency
FREQUENCY_MONTHS = {Freq.MONTHLY: 1, Freq.QUARTERLY: 3, Freq.ANNUAL: 12}
DAY = dt.timedelta(days=1)

CANCEL_REASONS = (
    "Customer churned: consolidated onto a competitor's platform",
    "Budget cut: the customer ended the subscription at the end of a billing period",
    "Company acquired; the subscription is replaced by the parent's enterprise agreement",
    "Terminated for non-payment after the collections process",
)


@dataclass
class ContractPlan:
    profile: CustomerProfile
    start: dt.date
    end: dt.date | None
    frequency: str
    lines: list[tuple[str, Decimal, Decimal]]  # (sku, quantity, unit price per month or unit)
    outcome: str  # "draft", "active", "cancel", "expire"
    cancel_on: dt.date | None = None
    renews: ContractPlan | None = None
    contract: Contract | None = None
    amendments: list[tuple[dt.date, str]] = field(default_factory=list)

    @property
    def months(self) -> int:
        return FREQUENCY_MONTHS[self.frequency]


def period_starts(start: dt.date, end: dt.date | None, months: int, until: dt.date):
    """Billing period start dates from `start`, stepping `months`, up to `until`."""
    k = 0
    while True:
        day = add_months(start, k * months)
        if day > until or (end is not None and day > end):
            return
        yield day
        k += 1


def _lines(demo: Demo, profile: CustomerProfile, start: dt.date, frequency: str, first: bool) -> list:
    rng, currency = demo.rng, profile.currency
    discount = Decimal(rng.choice([0, 0, 0, 5, 10, 10, 15, 20])) / 100

    def line(sku: str, quantity, discounted: bool = True) -> tuple[str, Decimal, Decimal]:
        price = demo.list_price(sku, currency, start)
        if discounted:
            price = quantize(price * (1 - discount), currency)
        return sku, Decimal(quantity), price

    seat = rng.choices(["SEAT-STD", "SEAT-PRO"], [6, 4])[0]
    lines = [line(seat, rng.randint(5, 25) * profile.size)]
    if profile.size >= 3 and rng.random() < 0.5:
        other = "SEAT-PRO" if seat == "SEAT-STD" else "SEAT-STD"
        lines.append(line(other, rng.randint(3, 10) * profile.size))
    if frequency != Freq.MONTHLY or rng.random() < 0.6:
        lines.append(line("PLAT-FEE", 1))
    if rng.random() < 0.25:
        lines.append(line("SUP-PREM", 1))
    if rng.random() < 0.2:
        lines.append(line("SANDBOX", 1))
    if first and rng.random() < 0.4:
        lines.append(line("PS-ONB", 1, discounted=False))
    if first and rng.random() < 0.15:
        lines.append(line("PS-HOUR", rng.randint(8, 40), discounted=False))
    if rng.random() < 0.15:
        lines.append(line("TRN-ADM", rng.randint(1, 3), discounted=False))
    if frequency == Freq.MONTHLY:
        # Metered lines: no committed quantity, the unit price applies to usage.
        if rng.random() < 0.5:
            lines.append(line("API-1K", 0, discounted=False))
        if rng.random() < 0.35:
            lines.append(line("STOR-GB", 0, discounted=False))
    return lines


def _term(demo: Demo, frequency: str) -> int | None:
    if frequency == Freq.MONTHLY:
        return demo.rng.choice([None, None, 12, 24])
    if frequency == Freq.QUARTERLY:
        return demo.rng.choice([12, 24])
    return demo.rng.choice([12, 12, 24, 36])


def _plan_customer(demo: Demo, profile: CustomerProfile) -> list[ContractPlan]:
    rng, today = demo.rng, demo.today
    this_month = month_start(today)
    if profile.fate == "new":
        frequency = rng.choice(list(FREQUENCY_MONTHS))
        start = add_months(this_month, 1)
        end = add_months(start, 12) - DAY
        lines = _lines(demo, profile, start, frequency, True)
        return [ContractPlan(profile, start, end, frequency, lines, "draft")]
    if profile.fate == "closed":
        start = add_months(this_month, -rng.randint(12, 26))
        lines = _lines(demo, profile, start, Freq.MONTHLY, True)
        cancel_on = add_months(this_month, -rng.randint(3, 5))
        return [ContractPlan(profile, start, None, Freq.MONTHLY, lines, "cancel", cancel_on=cancel_on)]
    if profile.fate == "on_hold":
        start = add_months(this_month, -rng.randint(8, 20))
        lines = _lines(demo, profile, start, Freq.MONTHLY, True)
        return [ContractPlan(profile, start, None, Freq.MONTHLY, lines, "active")]

    plans: list[ContractPlan] = []
    frequency = rng.choices(list(FREQUENCY_MONTHS), [55, 20, 25])[0]
    start = add_months(this_month, -rng.randint(1, 30))
    if frequency == Freq.MONTHLY and rng.random() < 0.3:
        start = start.replace(day=15)
    previous = None
    while True:
        term = _term(demo, frequency)
        end = None if term is None else add_months(start, term) - DAY
        lines = _lines(demo, profile, start, frequency, previous is None)
        plan = ContractPlan(profile, start, end, frequency, lines, "active")
        plan.renews = previous
        plans.append(plan)
        if end is not None and end < today:
            plan.outcome = "expire"
            if rng.random() < 0.12:
                break  # not renewed: the customer let it lapse
            previous, start = plan, end + DAY
            continue
        boundaries = list(period_starts(start, end, plan.months, today))[1:]
        if boundaries and rng.random() < 0.06:
            plan.outcome, plan.cancel_on = "cancel", rng.choice(boundaries)
        break
    if rng.random() < 0.05:
        # An expansion waiting for signature.
        start = add_months(this_month, 1)
        lines = [("SANDBOX", Decimal(1), demo.list_price("SANDBOX", profile.currency, start))]
        lines.append(("TRN-ADM", Decimal(2), demo.list_price("TRN-ADM", profile.currency, start)))
        plans.append(ContractPlan(profile, start, add_months(start, 12) - DAY, Freq.MONTHLY, lines, "draft"))
    return plans


def _create(demo: Demo, plan: ContractPlan) -> None:
    profile = plan.profile
    number = f"CTR-{profile.entity_code}-{demo.next_number('contract', profile.entity_code):05d}"
    reason = (
        f"Demo data: renewal of {plan.renews.contract.number}"
        if plan.renews
        else "Demo data: signed order form"
    )
    plan.contract = contract_create(
        number=number,
        customer=profile.customer,
        start_date=plan.start,
        end_date=plan.end,
        billing_frequency=plan.frequency,
        entitlement_reference=f"tenant-{base62(demo.rng, 10).lower()}",
        lines=[LineSpec(demo.products[sku], quantity, price) for sku, quantity, price in plan.lines],
        actor=demo.actor,
        reason=reason,
    )
    if demo.rng.random() < 0.85:
        demo.link("salesforce", "contract", salesforce_id(demo.rng, "800"), plan.contract)
    if profile.on_stripe:
        demo.link("stripe", "contract", stripe_id(demo.rng, "sub"), plan.contract)
    if plan.outcome != "draft":
        plan.contract = contract_activate(
            contract=plan.contract, actor=demo.actor, reason="Demo data: order form countersigned"
        )


def _plan_amendments(demo: Demo, plans: list[ContractPlan]) -> None:
    rng, today = demo.rng, demo.today
    candidates = []
    for plan in plans:
        if plan.outcome not in ("active", "expire"):
            continue
        first, last = add_months(plan.start, 1), min(today, plan.end or today)
        if (last - first).days > 45:
            candidates.append((plan, first, last))
    target = max(2, round(demo.options.customers * 0.18))
    for plan, first, last in rng.sample(candidates, min(target, len(candidates))):
        count = 2 if rng.random() < 0.15 else 1
        span = (last - first).days // count
        for index in range(count):
            low = first + dt.timedelta(days=index * span)
            kinds = ["upsell", "upsell", "addon"]
            boundaries = [
                d
                for d in period_starts(plan.start, plan.end, plan.months, last)
                if low < d <= low + dt.timedelta(days=span)
            ]
            if boundaries:
                kinds += ["price", "downsize"]
            kind = rng.choice(kinds)
            if kind in ("price", "downsize"):
                day = rng.choice(boundaries)
            else:
                day = low + dt.timedelta(days=rng.randint(1, span - 1))
            plan.amendments.append((day, kind))


def _current_lines(contract: Contract, day: dt.date) -> list[ContractLine]:
    lines = contract.lines.select_related("product").filter(replaced_by__isnull=True, ended_by__isnull=True)
    lines = lines.filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day), effective_from__lt=day)
    return list(lines.order_by("id"))


PRICE_CHANGES = (
    (-10, "Loyalty discount of 10% agreed at the quarterly business review"),
    (-5, "Discount of 5% in exchange for a multi-year commitment"),
    (5, "Price uplift of 5% under the order form's indexation clause"),
    (3, "Consumer-price indexation of 3% applied under the order form"),
)


def _proposal(demo: Demo, plan: ContractPlan, kind: str, lines: list[ContractLine], day: dt.date):
    """One random amendment of `kind`: (changes, new lines, reason), or None."""
    rng, currency = demo.rng, plan.profile.currency
    seat = next((line for line in lines if line.product.sku.startswith("SEAT-")), None)
    if seat is None:
        return None
    order_form = f"Q-{day.year}-{rng.randint(1000, 9999)}"
    if kind == "upsell":
        added = rng.randint(2, 12) * plan.profile.size
        reason = f"Upsell: {added} more {seat.product.name.lower()}s from {long_date(day)} (order form {order_form})"
        return [LineChange(seat, quantity=seat.quantity + added)], [], reason
    if kind == "downsize":
        removed = max(1, int(seat.quantity * Decimal(rng.randint(10, 30)) / 100))
        reason = f"Seat reduction of {removed} at the customer's request after a reorganisation"
        return [LineChange(seat, quantity=seat.quantity - removed)], [], reason
    if kind == "price":
        pct, reason = rng.choice(PRICE_CHANGES)
        new_price = quantize(seat.unit_price * (100 + pct) / 100, currency)
        return [LineChange(seat, unit_price=new_price)], [], reason
    have = {line.product.sku for line in lines}
    missing = [sku for sku in ("SUP-PREM", "SANDBOX") if sku not in have]
    if not missing:
        return None
    product = demo.products[rng.choice(missing)]
    spec = LineSpec(product, Decimal(1), demo.list_price(product.sku, currency, day))
    return [], [spec], f"Added {product.name.lower()} from {long_date(day)} (order form {order_form})"


def _amend(demo: Demo, plan: ContractPlan, day: dt.date, kind: str) -> None:
    proposal = _proposal(demo, plan, kind, _current_lines(plan.contract, day), day)
    if proposal is None:
        return
    changes, new_lines, reason = proposal
    contract_amend(
        contract=plan.contract,
        effective_date=day,
        changes=changes,
        new_lines=new_lines,
        actor=demo.actor,
        reason=reason,
    )


def _expire(demo: Demo) -> None:
    """Expire ended contracts through the scheduled job's service, unless that
    would also touch contracts that are not demo data (the job is database-wide)."""
    ended = Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__lt=demo.today)
    if ended.exclude(customer__legal_entity__in=list(demo.entities.values())).exists():
        return
    contracts_expire_due(today=demo.today, actor=demo.actor)


def build_contracts(demo: Demo) -> list[ContractPlan]:
    plans = [plan for profile in demo.profiles for plan in _plan_customer(demo, profile)]
    plans.sort(key=lambda p: (p.start, p.profile.customer.number))
    for plan in plans:
        _create(demo, plan)
    _plan_amendments(demo, plans)
    amendments = sorted(
        ((day, plan.contract.number, kind, plan) for plan in plans for day, kind in plan.amendments),
        key=lambda a: a[:3],
    )
    for day, _, kind, plan in amendments:
        _amend(demo, plan, day, kind)
    for plan in plans:
        if plan.outcome == "cancel":
            plan.contract = contract_cancel(
                contract=plan.contract,
                effective_date=plan.cancel_on,
                actor=demo.actor,
                reason=demo.rng.choice(CANCEL_REASONS),
            )
    _expire(demo)
    return plans


def usage_lines(plans: list[ContractPlan]) -> list[ContractLine]:
    contracts = [p.contract.pk for p in plans if p.outcome != "draft" and p.frequency == Freq.MONTHLY]
    return list(
        ContractLine.objects.filter(contract__in=contracts, product__sku__in=USAGE_SKUS)
        .select_related("contract", "product")
        .order_by("contract__number", "product__sku", "id")
    )
