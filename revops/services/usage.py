"""Writes for metered usage, and late usage with its two treatments.

`usage_record` records one usage event, idempotent on (source, source event
id). Usage whose period an issued invoice has already closed (the cutoff is
derived from invoices: see revops.selectors.usage) is refused with `LateUsage`
unless the caller says how to bill it:

- "next_period": the usage is recorded and billed as an adjustment line on the
  contract's next invoice: the earliest draft invoice of the contract made in
  revops (no other system owns it) dated on or after the closing invoice, or
  else a new draft invoice for the contract's next billing period, which
  collects every adjustment until someone issues it.
- "credit_rebill": the closing invoice's lines that billed the contract line
  for the period are credited in full by a credit note, and a new invoice for
  the period is issued with those lines again plus the late usage. The closing
  invoice must still have that much due (a paid invoice is refunded, not
  credited): otherwise the treatment is refused and the next-period adjustment
  is the way.

Either way the usage record names the invoice that had closed its period and
the invoice line that now bills it, history records who and why, and a business
event with the contract's correlation id tells the quote-to-cash trail.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import (
    Contract,
    ContractLine,
    CreditNote,
    CreditNoteLine,
    ExternalRef,
    Invoice,
    InvoiceLine,
    UsageRecord,
)
from revops.models.base import stamp
from revops.money import MoneyError, money_text, quantize, to_decimal
from revops.selectors.usage import PeriodClosure, usage_period_closure
from revops.services import billing
from revops.services.events import event_record

NEXT_PERIOD = UsageRecord.LateTreatment.NEXT_PERIOD
CREDIT_REBILL = UsageRecord.LateTreatment.CREDIT_REBILL
TREATMENTS = (NEXT_PERIOD, CREDIT_REBILL)
ZERO = Decimal(0)
_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}


class LateUsage(DomainValidationError):
    """Usage for a period an issued invoice has already closed, refused until
    the caller chooses a treatment. Carries what a person needs to choose."""

    def __init__(
        self,
        *,
        contract_line: ContractLine,
        closure: PeriodClosure,
        quantity: Decimal,
        unit_amount: Decimal,
        period_start: dt.date,
        period_end: dt.date,
    ):
        self.contract_line = contract_line
        self.closure = closure
        self.quantity = quantity
        self.unit_amount = unit_amount
        self.currency = closure.invoice.currency
        self.amount = quantize(quantity * unit_amount, self.currency)
        self.period_start = period_start
        self.period_end = period_end
        super().__init__(
            {
                "period_start": [
                    f"The usage period {period_label(period_start, period_end)} of "
                    f"{contract_line.contract.number} is closed by invoice {closure.invoice.number} "
                    f"({closure.why}); late usage is billed in the next period or by credit and re-bill."
                ]
            }
        )


def period_label(start: dt.date, end: dt.date) -> str:
    if start.day == 1 and end == _month_end(start):
        return f"{start:%B %Y}"
    return f"{start} – {end}"


def _decimal(value, field: str) -> Decimal:
    try:
        number = to_decimal(value)
    except MoneyError as exc:
        raise field_error(field, str(exc)) from None
    if number < 0:
        raise field_error(field, f"{field.replace('_', ' ').capitalize()} cannot be negative.")
    return number


@transaction.atomic
def usage_record(
    *,
    contract_line: ContractLine,
    quantity: Decimal | str,
    usage_at: dt.datetime,
    source: str,
    source_event_id: str,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    late_treatment: str = "",
    actor: Actor,
    reason: str = "Usage received",
) -> tuple[UsageRecord, bool]:
    """Record metered usage, idempotent on (source, source_event_id): an event
    already recorded is returned as it is. Returns (record, created).

    Usage for a closed period raises `LateUsage` unless `late_treatment` is
    "next_period" or "credit_rebill", which is then carried out (see module)."""
    if not source or not source_event_id:
        raise DomainValidationError({"source_event_id": ["Usage needs its source and source event id."]})
    existing = UsageRecord.objects.filter(source=source, source_event_id=source_event_id).first()
    if existing is not None:
        return existing, False
    if late_treatment and late_treatment not in TREATMENTS:
        raise field_error("late_treatment", f"Unknown late usage treatment {late_treatment!r}.")
    quantity = _decimal(quantity, "quantity")
    day = usage_at.date()
    if not contract_line.is_effective_on(day):
        raise field_error("usage_at", f"The contract line is not in effect on {day}.")
    period_start = period_start or day.replace(day=1)
    period_end = period_end or _month_end(day)
    if period_end < period_start:
        raise field_error("period_end", "The usage period must end after it starts.")
    record = UsageRecord(
        contract_line=contract_line,
        quantity=quantity,
        usage_at=usage_at,
        period_start=period_start,
        period_end=period_end,
        source=source,
        source_event_id=source_event_id,
    )
    closure = usage_period_closure(
        contract_line=contract_line, period_start=period_start, period_end=period_end
    )
    if closure is not None and late_treatment:
        # One late treatment of a contract at a time: drafts and re-bills stay single,
        # and a concurrent delivery of this event waits here, then finds it recorded.
        Contract.objects.select_for_update().get(pk=contract_line.contract_id)
        existing = UsageRecord.objects.filter(source=source, source_event_id=source_event_id).first()
        if existing is not None:
            return existing, False
        closure = usage_period_closure(
            contract_line=contract_line, period_start=period_start, period_end=period_end
        )
    if closure is None:
        return _save(record, actor, reason)
    late = LateUsage(
        contract_line=contract_line,
        closure=closure,
        quantity=quantity,
        unit_amount=_unit_amount(contract_line, closure),
        period_start=period_start,
        period_end=period_end,
    )
    if not late_treatment:
        raise late
    if late_treatment == NEXT_PERIOD:
        billed_on, note = _bill_next_period(late, record=record, actor=actor, reason=reason), None
    else:
        billed_on, note = _credit_and_rebill(late, record=record, actor=actor, reason=reason)
    record.late_treatment = late_treatment
    record.closed_by_invoice = closure.invoice
    record.billed_on = billed_on
    # No race to absorb here (the contract is locked): a clash must undo the billing above.
    stamp(record, actor, f"{reason}: late usage, {record.get_late_treatment_display().lower()}")
    record.save()
    _late_event(late, record=record, credit_note=note, actor=actor, reason=reason)
    return record, True


def _save(record: UsageRecord, actor: Actor, reason: str) -> tuple[UsageRecord, bool]:
    stamp(record, actor, reason)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        # A concurrent delivery of the same event won the race.
        return UsageRecord.objects.get(source=record.source, source_event_id=record.source_event_id), False
    return record, True


def _unit_amount(line: ContractLine, closure: PeriodClosure) -> Decimal:
    """The unit amount the usage bills at: as the closing invoice billed the line, else the contract's price."""
    for billed in closure.lines:
        if billed.quantity:
            return billed.unit_amount
    return line.unit_price


def _tax_like(closure: PeriodClosure) -> tuple[Decimal, str]:
    """The tax rate and jurisdiction of the period as the closing invoice taxed it."""
    reference = closure.lines[0] if closure.lines else closure.invoice.lines.order_by("line_number").first()
    if reference is None:
        return ZERO, ""
    return reference.tax_rate, reference.tax_jurisdiction


def _late_line_spec(late: LateUsage, record: UsageRecord, what: str) -> billing.InvoiceLineSpec:
    line = late.contract_line
    rate, jurisdiction = _tax_like(late.closure)
    unit = f" {line.product.unit_label}" if line.product.unit_label else ""
    return billing.InvoiceLineSpec(
        description=(
            f"{line.product.name}: {what} {late.quantity.normalize():f}{unit} used in "
            f"{period_label(late.period_start, late.period_end)} (event {record.source_event_id}, "
            f"after {late.closure.invoice.number})"
        )[:300],
        quantity=late.quantity,
        unit_amount=late.unit_amount,
        tax_rate=rate,
        tax_jurisdiction=jurisdiction,
        product=line.product,
        contract_line=line,
        period_start=late.period_start,
        period_end=late.period_end,
    )


# -- next period ------------------------------------------------------------------------------------


def next_billing_period(contract: Contract, closing: Invoice) -> tuple[dt.date, dt.date]:
    """The contract's billing period after the one the closing invoice covers."""
    if closing.period_end:
        start = closing.period_end + dt.timedelta(days=1)
    else:
        start = _month_end(closing.issue_date) + dt.timedelta(days=1)
    end = _add_months(start, _MONTHS.get(contract.billing_frequency, 1)) - dt.timedelta(days=1)
    return start, end


def _next_draft(contract: Contract, closing: Invoice) -> Invoice | None:
    """The contract's next invoice still being prepared in revops: the earliest
    draft dated on or after the closing invoice that no other system owns (a
    line added to a billing system's draft would only come back as a mismatch)."""
    owned_elsewhere = ExternalRef.objects.filter(
        content_type__app_label="revops", content_type__model="invoice"
    ).values("object_id")
    return (
        Invoice.objects.select_for_update()
        .filter(contract=contract, status=Invoice.Status.DRAFT, issue_date__gte=closing.issue_date)
        .exclude(pk__in=owned_elsewhere)
        .order_by("issue_date", "id")
        .first()
    )


def _bill_next_period(late: LateUsage, *, record: UsageRecord, actor: Actor, reason: str) -> InvoiceLine:
    contract = late.contract_line.contract
    closing = late.closure.invoice
    spec = _late_line_spec(late, record, "late usage adjustment,")
    draft = _next_draft(contract, closing)
    why = f"{reason}: late usage {record.source_event_id} billed in the next period"
    if draft is None:
        start, end = next_billing_period(contract, closing)
        draft = billing.invoice_create(
            number=_free_number(Invoice, closing.legal_entity_id, f"{contract.number[:24]}-ADJ-{start:%Y%m}"),
            customer=contract.customer,
            contract=contract,
            legal_entity=closing.legal_entity,
            currency=closing.currency,
            issue_date=max(start, timezone.localdate()),
            period_start=start,
            period_end=end,
            tax_mode=closing.tax_mode,
            lines=[spec],
            issue=False,
            memo=f"Usage adjustments for {contract.number}: late usage after {closing.number}",
            actor=actor,
            reason=why,
        )
        return draft.lines.get()
    return _append_line(draft, spec, actor=actor, reason=why)


def _append_line(draft: Invoice, spec: billing.InvoiceLineSpec, *, actor: Actor, reason: str) -> InvoiceLine:
    """Add a line to a draft invoice and compute its header from all its lines again."""
    currency, mode = draft.currency, draft.tax_mode
    amount = quantize(spec.quantity * spec.unit_amount, currency)
    number = (draft.lines.aggregate(n=Max("line_number"))["n"] or 0) + 1
    line = InvoiceLine(
        invoice=draft,
        line_number=number,
        product=spec.product,
        contract_line=spec.contract_line,
        description=spec.description,
        quantity=spec.quantity,
        unit_amount=spec.unit_amount,
        amount=amount,
        tax_amount=billing.line_tax(amount, spec.tax_rate, mode, currency),
        tax_rate=spec.tax_rate,
        tax_jurisdiction=spec.tax_jurisdiction,
        period_start=spec.period_start,
        period_end=spec.period_end,
    )
    stamp(line, actor, reason)
    line.save()
    pairs = list(draft.lines.values_list("amount", "tax_amount"))
    draft.subtotal, draft.tax_total, draft.total = billing.header_totals(pairs, mode)
    if draft.total < 0:
        raise field_error("late_treatment", f"Draft {draft.number} would come to a negative total.")
    billing.invoice_recalculate(draft, actor, reason)
    return line


# -- credit and re-bill -------------------------------------------------------------------------------


def _uncredited(line: InvoiceLine) -> tuple[Decimal, Decimal]:
    """(amount, tax) of an invoice line not yet credited by an issued credit note."""
    credited = CreditNoteLine.objects.filter(
        invoice_line=line, credit_note__status=CreditNote.Status.ISSUED
    ).aggregate(amount=Sum("amount"), tax=Sum("tax_amount"))
    return line.amount - (credited["amount"] or ZERO), line.tax_amount - (credited["tax"] or ZERO)


def _credit_and_rebill(
    late: LateUsage, *, record: UsageRecord, actor: Actor, reason: str
) -> tuple[InvoiceLine, CreditNote | None]:
    closing = Invoice.objects.select_for_update().get(pk=late.closure.invoice.pk)
    today = timezone.localdate()
    why = f"{reason}: credit and re-bill of {closing.number} for late usage {record.source_event_id}"
    credits, rebill_specs = [], []
    for line in late.closure.lines:
        amount, tax = _uncredited(line)
        if amount <= 0:
            continue
        credits.append(
            billing.CreditLineSpec(
                description=f"Credit of {line.description}"[:300],
                amount=amount,
                tax_amount=max(tax, ZERO),
                invoice_line=line,
            )
        )
        rebill_specs.append(
            billing.InvoiceLineSpec(
                description=line.description,
                quantity=line.quantity if amount == line.amount else 1,
                unit_amount=line.unit_amount if amount == line.amount else amount,
                amount=amount,
                tax_amount=max(tax, ZERO),
                tax_rate=line.tax_rate,
                tax_jurisdiction=line.tax_jurisdiction,
                product=line.product,
                contract_line=line.contract_line,
                period_start=line.period_start or closing.period_start,
                period_end=line.period_end or closing.period_end,
            )
        )
    note = None
    if credits:
        _check_creditable(closing, credits)
        note = billing.credit_note_issue(
            invoice=closing,
            number=_free_number(
                CreditNote, closing.legal_entity_id, f"CN-{closing.number[:30]}-", plain=False
            ),
            issue_date=today,
            lines=credits,
            actor=actor,
            reason=why,
        )
    rebill = billing.invoice_create(
        number=_free_number(
            Invoice, closing.legal_entity_id, f"{_original_number(closing)[:34]}-R", plain=False
        ),
        customer=closing.customer,
        contract=late.contract_line.contract,
        legal_entity=closing.legal_entity,
        currency=closing.currency,
        issue_date=today,
        period_start=late.period_start,
        period_end=late.period_end,
        tax_mode=closing.tax_mode,
        lines=[*rebill_specs, _late_line_spec(late, record, "late usage")],
        issue=True,
        memo=f"Re-bill of {closing.number} for {period_label(late.period_start, late.period_end)} with late usage",
        actor=actor,
        reason=why,
    )
    return rebill.lines.order_by("-line_number").first(), note


def _check_creditable(closing: Invoice, credits: list[billing.CreditLineSpec]) -> None:
    if closing.status not in (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE):
        raise field_error(
            "late_treatment",
            f"{closing.number} is {closing.get_status_display().lower()}, so it cannot be credited; "
            "bill the late usage in the next period instead.",
        )
    subtotal, tax, total = billing.header_totals(
        [(c.amount, c.tax_amount) for c in credits], closing.tax_mode
    )
    if total > closing.amount_due:
        raise field_error(
            "late_treatment",
            f"Crediting the usage billed on {closing.number} ({money_text(total, closing.currency)}) "
            f"exceeds the {money_text(closing.amount_due, closing.currency)} still due on it; "
            "bill the late usage in the next period instead.",
        )


# -- numbers, events, dates ---------------------------------------------------------------------------


def _original_number(invoice: Invoice) -> str:
    """The number of the invoice a chain of re-bills started from (INV-1-R2 → INV-1)."""
    return re.sub(r"-R\d+$", "", invoice.number)


def _free_number(model, legal_entity_id: int, stem: str, *, plain: bool = True) -> str:
    """`stem` itself when `plain` and free, else the first free `stem`-n (or `stem`n
    when the stem ends in a separator)."""
    taken = set(
        model.objects.filter(legal_entity_id=legal_entity_id, number__startswith=stem).values_list(
            "number", flat=True
        )
    )
    if plain and stem not in taken:
        return stem
    glue = "" if stem.endswith(("-", "-R")) else "-"
    n = 1
    while f"{stem}{glue}{n}" in taken:
        n += 1
    return f"{stem}{glue}{n}"


def _late_event(
    late: LateUsage, *, record: UsageRecord, credit_note: CreditNote | None, actor: Actor, reason: str
) -> None:
    contract = late.contract_line.contract
    billed = record.billed_on
    event_record(
        type="usage.late_billed_next_period"
        if record.late_treatment == NEXT_PERIOD
        else "usage.late_rebilled",
        subject=contract,
        actor=actor,
        correlation_id=contract.correlation_id,
        payload={
            "usage": record.pk,
            "source": record.source,
            "source_event_id": record.source_event_id,
            "contract_line": late.contract_line.pk,
            "period_start": late.period_start,
            "period_end": late.period_end,
            "quantity": late.quantity,
            "amount": late.amount,
            "currency": late.currency,
            "closed_by_invoice": late.closure.invoice.number,
            "billed_on_invoice": billed.invoice.number,
            "billed_on_line": billed.line_number,
            "credit_note": credit_note.number if credit_note is not None else None,
            "reason": reason,
        },
    )


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
