"""Writes for contracts, their lines, amendments and usage.

A line is never edited in place once it has been in effect: an amendment ends it
(effective_to = amendment date) and adds a successor line that `replaces` it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from revops.actors import Actor
from revops.errors import field_error
from revops.models import Contract, ContractAmendment, ContractLine, Customer, Product, UsageRecord
from revops.models.base import stamp
from revops.money import MoneyError, check_currency, to_decimal
from revops.services.events import event_record


@dataclass(frozen=True)
class LineSpec:
    product: Product
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class LineChange:
    """Change one current line from the amendment date on. quantity/unit_price
    None keep the old value; `end=True` ends the line without a successor."""

    line: ContractLine
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    end: bool = False


def _decimal(value, field: str) -> Decimal:
    try:
        number = to_decimal(value)
    except MoneyError as exc:
        raise field_error(field, str(exc)) from None
    if number < 0:
        raise field_error(field, f"{field.replace('_', ' ').capitalize()} cannot be negative.")
    return number


@transaction.atomic
def contract_create(
    *,
    number: str,
    customer: Customer,
    start_date: dt.date,
    billing_frequency: str,
    currency: str | None = None,
    end_date: dt.date | None = None,
    entitlement_reference: str = "",
    lines: list[LineSpec] = (),
    actor: Actor,
    reason: str = "Contract created",
) -> Contract:
    currency = (currency or customer.currency).upper()
    try:
        check_currency(currency)
    except MoneyError as exc:
        raise field_error("currency", str(exc)) from None
    if end_date is not None and end_date < start_date:
        raise field_error("end_date", "The contract cannot end before it starts.")
    if billing_frequency not in Contract.BillingFrequency.values:
        raise field_error("billing_frequency", f"Unknown billing frequency {billing_frequency!r}.")
    if Contract.objects.filter(number=number).exists():
        raise field_error("number", f"Contract number {number} is already in use.")
    contract = Contract(
        number=number,
        customer=customer,
        start_date=start_date,
        end_date=end_date,
        billing_frequency=billing_frequency,
        currency=currency,
        entitlement_reference=entitlement_reference,
    )
    stamp(contract, actor, reason)
    contract.save()
    for spec in lines:
        _add_line(contract, spec, start_date, actor, reason)
    event_record(
        type="contract.created",
        subject=contract,
        actor=actor,
        correlation_id=contract.correlation_id,
        payload={"number": number, "customer": customer.number},
    )
    return contract


_CONTRACT_END = object()


def _add_line(
    contract,
    spec: LineSpec,
    effective_from,
    actor,
    reason,
    amendment=None,
    replaces=None,
    effective_to=_CONTRACT_END,
):
    if effective_to is _CONTRACT_END:
        effective_to = contract.end_date + dt.timedelta(days=1) if contract.end_date else None
    line = ContractLine(
        contract=contract,
        product=spec.product,
        quantity=_decimal(spec.quantity, "quantity"),
        unit_price=_decimal(spec.unit_price, "unit_price"),
        effective_from=effective_from,
        effective_to=effective_to,
        amendment=amendment,
        replaces=replaces,
    )
    if line.effective_to is not None and line.effective_to <= line.effective_from:
        raise field_error("effective_from", "A line must start before the contract ends.")
    stamp(line, actor, reason)
    line.save()
    return line


@transaction.atomic
def contract_activate(*, contract: Contract, actor: Actor, reason: str = "Contract activated") -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status == Contract.Status.ACTIVE:
        return contract
    if contract.status != Contract.Status.DRAFT:
        raise field_error(
            "status", f"A {contract.get_status_display().lower()} contract cannot be activated."
        )
    if not contract.lines.exists():
        raise field_error("lines", "A contract needs at least one line before it can be activated.")
    contract.status = Contract.Status.ACTIVE
    contract.activated_at = timezone.now()
    stamp(contract, actor, reason)
    contract.save()
    event_record(
        type="contract.activated",
        subject=contract,
        actor=actor,
        correlation_id=contract.correlation_id,
        payload={"number": contract.number, "start_date": contract.start_date},
    )
    return contract


@transaction.atomic
def contract_cancel(*, contract: Contract, effective_date: dt.date, actor: Actor, reason: str) -> Contract:
    """Cancel from `effective_date`: lines still running are ended that day."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status in (Contract.Status.CANCELLED, Contract.Status.EXPIRED):
        raise field_error("status", f"The contract is already {contract.status}.")
    if not reason.strip():
        raise field_error("reason", "Say why the contract is cancelled.")
    if effective_date < contract.start_date:
        effective_date = contract.start_date
    for line in contract.lines.select_for_update(of=("self",)).filter(replaced_by__isnull=True):
        if line.effective_to is None or line.effective_to > effective_date:
            if line.effective_from >= effective_date:
                line.effective_to = line.effective_from + dt.timedelta(days=1)
            else:
                line.effective_to = effective_date
            stamp(line, actor, reason)
            line.save()
    contract.status = Contract.Status.CANCELLED
    contract.cancelled_at = timezone.now()
    contract.cancellation_reason = reason.strip()[:300]
    contract.end_date = max(effective_date - dt.timedelta(days=1), contract.start_date)
    stamp(contract, actor, reason)
    contract.save()
    event_record(
        type="contract.cancelled",
        subject=contract,
        actor=actor,
        correlation_id=contract.correlation_id,
        payload={"effective_date": effective_date, "reason": reason},
    )
    return contract


@transaction.atomic
def contract_amend(
    *,
    contract: Contract,
    effective_date: dt.date,
    changes: list[LineChange] = (),
    new_lines: list[LineSpec] = (),
    actor: Actor,
    reason: str,
) -> ContractAmendment:
    """Amend a contract from `effective_date`: changed lines end that day and a
    successor line carries the new quantity or price; new lines start that day."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status not in (Contract.Status.DRAFT, Contract.Status.ACTIVE):
        raise field_error("status", f"A {contract.status} contract cannot be amended.")
    if not reason.strip():
        raise field_error("reason", "Say why the contract is amended.")
    if not changes and not new_lines:
        raise field_error("changes", "An amendment must change, end or add at least one line.")
    if effective_date < contract.start_date or (contract.end_date and effective_date > contract.end_date):
        raise field_error("effective_date", "The amendment date must fall within the contract term.")
    sequence = (contract.amendments.aggregate(n=Max("sequence"))["n"] or 0) + 1
    amendment = ContractAmendment(
        contract=contract,
        sequence=sequence,
        effective_date=effective_date,
        reason=reason.strip()[:300],
        made_by=actor.label,
    )
    stamp(amendment, actor, reason)
    amendment.save()
    for change in changes:
        line = ContractLine.objects.select_for_update().get(pk=change.line.pk)
        if line.contract_id != contract.pk:
            raise field_error("changes", f"Line {line.pk} belongs to another contract.")
        if hasattr(line, "replaced_by") or not line.is_effective_on(effective_date):
            raise field_error(
                "changes", f"Line {line.pk} ({line.product.sku}) is not in effect on {effective_date}."
            )
        if effective_date <= line.effective_from:
            raise field_error(
                "effective_date",
                f"Line {line.pk} starts on {line.effective_from}; amend it from a later date.",
            )
        old_end = line.effective_to
        line.effective_to = effective_date
        line.ended_by = amendment
        stamp(line, actor, reason)
        line.save()
        if not change.end:
            spec = LineSpec(
                product=line.product,
                quantity=line.quantity if change.quantity is None else change.quantity,
                unit_price=line.unit_price if change.unit_price is None else change.unit_price,
            )
            _add_line(
                contract,
                spec,
                effective_date,
                actor,
                reason,
                amendment=amendment,
                replaces=line,
                effective_to=old_end,
            )
    for spec in new_lines:
        _add_line(contract, spec, effective_date, actor, reason, amendment=amendment)
    event_record(
        type="contract.amended",
        subject=contract,
        actor=actor,
        correlation_id=contract.correlation_id,
        payload={"sequence": sequence, "effective_date": effective_date, "reason": reason},
    )
    return amendment


@transaction.atomic
def contracts_expire_due(*, today: dt.date | None = None, actor: Actor) -> int:
    """Mark active contracts whose end date has passed as expired. Idempotent."""
    today = today or timezone.localdate()
    count = 0
    due = Contract.objects.select_for_update(skip_locked=True).filter(
        status=Contract.Status.ACTIVE, end_date__lt=today
    )
    for contract in due:
        contract.status = Contract.Status.EXPIRED
        stamp(contract, actor, f"Contract term ended on {contract.end_date}")
        contract.save()
        event_record(
            type="contract.expired",
            subject=contract,
            actor=actor,
            correlation_id=contract.correlation_id,
            payload={"end_date": contract.end_date},
        )
        count += 1
    return count


def usage_record(**kwargs) -> tuple[UsageRecord, bool]:
    """Record metered usage; see revops.services.usage.usage_record, which also
    refuses usage for a period already invoiced unless told how to bill it."""
    from revops.services.usage import usage_record as record

    return record(**kwargs)
