"""Writes for invoices and credit notes.

Headers are always computed from lines: exclusive tax adds the tax on top of
the line amounts; inclusive tax leaves the total equal to the subtotal, the tax
being the part of it that is tax (40.00 with 5.22 tax included stays 40.00).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import (
    Contract,
    ContractLine,
    CreditNote,
    CreditNoteLine,
    Customer,
    Invoice,
    InvoiceLine,
    LegalEntity,
    PaymentApplication,
    Product,
    TaxMode,
)
from revops.models.base import stamp
from revops.money import MoneyError, check_currency, money_text, quantize, to_decimal
from revops.services.events import event_record
from revops.validators import model_instance

ZERO = Decimal(0)


@dataclass(frozen=True)
class InvoiceLineSpec:
    description: str
    quantity: Decimal | str
    unit_amount: Decimal | str
    tax_rate: Decimal | str = ZERO
    tax_amount: Decimal | str | None = None  # computed from the rate when None
    tax_jurisdiction: str = ""
    product: Product | None = None
    contract_line: ContractLine | None = None
    amount: Decimal | str | None = None  # quantity × unit amount when None
    period_start: dt.date | None = None
    period_end: dt.date | None = None


@dataclass(frozen=True)
class CreditLineSpec:
    description: str
    amount: Decimal | str
    tax_amount: Decimal | str | None = None  # from the invoice line's rate when None
    invoice_line: InvoiceLine | None = None


def _number(value, field: str) -> Decimal:
    try:
        return to_decimal(value)
    except MoneyError as exc:
        raise field_error(field, str(exc)) from None


def line_tax(amount: Decimal, rate: Decimal, tax_mode: str, currency: str) -> Decimal:
    """Tax on a line amount at `rate` percent, in the given tax mode."""
    if rate == 0:
        return quantize(0, currency)
    if tax_mode == TaxMode.INCLUSIVE:
        return quantize(amount - amount / (1 + rate / 100), currency)
    return quantize(amount * rate / 100, currency)


def header_totals(lines: list[tuple[Decimal, Decimal]], tax_mode: str) -> tuple[Decimal, Decimal, Decimal]:
    """(subtotal, tax_total, total) from (amount, tax_amount) pairs."""
    subtotal = sum((amount for amount, _ in lines), ZERO)
    tax_total = sum((tax for _, tax in lines), ZERO)
    total = subtotal if tax_mode == TaxMode.INCLUSIVE else subtotal + tax_total
    return subtotal, tax_total, total


def line_values(specs: list[InvoiceLineSpec], currency: str, tax_mode: str) -> list[dict]:
    """Each line's field values (for `model_instance(InvoiceLine, …)`), checked
    and computed from its spec (pure)."""
    if not specs:
        raise field_error("lines", "An invoice needs at least one line.")
    built = []
    for number, spec in enumerate(specs, start=1):
        quantity = _number(spec.quantity, f"lines[{number}].quantity")
        unit_amount = _number(spec.unit_amount, f"lines[{number}].unit_amount")
        rate = _number(spec.tax_rate, f"lines[{number}].tax_rate")
        if not ZERO <= rate <= 100:
            raise field_error(
                f"lines[{number}].tax_rate", f"Tax rate {rate} is not a percentage between 0 and 100."
            )
        amount = quantize(
            quantity * unit_amount if spec.amount is None else _number(spec.amount, "amount"), currency
        )
        tax = (
            line_tax(amount, rate, tax_mode, currency)
            if spec.tax_amount is None
            else quantize(_number(spec.tax_amount, f"lines[{number}].tax_amount"), currency)
        )
        if tax < 0:
            raise field_error(f"lines[{number}].tax_amount", "Tax cannot be negative.")
        if tax_mode == TaxMode.INCLUSIVE and tax > amount:
            raise field_error(f"lines[{number}].tax_amount", "Included tax cannot exceed the line amount.")
        built.append(
            {
                "line_number": number,
                "product": spec.product,
                "contract_line": spec.contract_line,
                "description": (spec.description or "").strip()[:300] or "(no description)",
                "quantity": quantity,
                "unit_amount": unit_amount,
                "amount": amount,
                "tax_amount": tax,
                "tax_rate": rate,
                "tax_jurisdiction": spec.tax_jurisdiction,
                "period_start": spec.period_start,
                "period_end": spec.period_end,
            }
        )
    return built


def invoice_header(
    *,
    customer: Customer,
    issue_date: dt.date,
    tax_mode: str,
    contract: Contract | None,
    legal_entity: LegalEntity | None,
    currency: str | None,
    due_date: dt.date | None,
    period_start: dt.date | None,
    period_end: dt.date | None,
) -> tuple[LegalEntity, str, dt.date]:
    """Check an invoice's header (pure); returns its legal entity, currency and due date."""
    legal_entity = legal_entity or customer.legal_entity
    currency = (currency or (contract.currency if contract else customer.currency)).upper()
    try:
        check_currency(currency)
    except MoneyError as exc:
        raise field_error("currency", str(exc)) from None
    if tax_mode not in TaxMode.values:
        raise field_error("tax_mode", f"Unknown tax mode {tax_mode!r}; use exclusive or inclusive.")
    if contract is not None:
        if contract.customer_id != customer.pk:
            raise field_error("contract", f"Contract {contract.number} belongs to another customer.")
        if contract.currency != currency:
            raise field_error(
                "currency", f"Contract {contract.number} is in {contract.currency}, not {currency}."
            )
    due_date = due_date or issue_date + dt.timedelta(days=customer.payment_terms_days)
    if due_date < issue_date:
        raise field_error("due_date", "The due date cannot be before the issue date.")
    if period_start and period_end and period_end < period_start:
        raise field_error("period_end", "The service period must end after it starts.")
    return legal_entity, currency, due_date


def invoice_number_taken(legal_entity: LegalEntity, number: str) -> DomainValidationError:
    return field_error("number", f"Invoice {number} already exists in {legal_entity.code}.")


def invoice_draft(
    *,
    number: str,
    customer: Customer,
    contract: Contract | None,
    legal_entity: LegalEntity,
    currency: str,
    issue_date: dt.date,
    due_date: dt.date,
    period_start: dt.date | None,
    period_end: dt.date | None,
    tax_mode: str,
    lines: list[InvoiceLineSpec],
    expected_total: Decimal | None,
    memo: str,
) -> tuple[Invoice, list[dict]]:
    """An unsaved draft invoice and its lines' field values (`line_values`:
    bulk creation writes them as rows without building a model for each),
    totals computed from the lines and checked (pure); call after
    `invoice_header`."""
    built = line_values(lines, currency, tax_mode)
    subtotal, tax_total, total = header_totals(
        [(line["amount"], line["tax_amount"]) for line in built], tax_mode
    )
    if total < 0:
        raise field_error("lines", "An invoice total cannot be negative; issue a credit note instead.")
    if expected_total is not None and quantize(expected_total, currency) != total:
        raise field_error(
            "total",
            f"The lines add up to {money_text(total, currency)} but the document states "
            f"{money_text(expected_total, currency)}.",
        )
    invoice = model_instance(
        Invoice,
        {
            "number": number,
            "customer": customer,
            "contract": contract,
            "legal_entity": legal_entity,
            "currency": currency,
            "issue_date": issue_date,
            "due_date": due_date,
            "period_start": period_start,
            "period_end": period_end,
            "status": Invoice.Status.DRAFT,
            "tax_mode": tax_mode,
            "subtotal": subtotal,
            "tax_total": tax_total,
            "total": total,
            "amount_due": total,
            "correlation_id": contract.correlation_id if contract else uuid.uuid4(),
            "memo": memo,
        },
    )
    return invoice, built


@transaction.atomic
def invoice_create(
    *,
    number: str,
    customer: Customer,
    issue_date: dt.date,
    lines: list[InvoiceLineSpec],
    tax_mode: str = TaxMode.EXCLUSIVE,
    contract: Contract | None = None,
    legal_entity: LegalEntity | None = None,
    currency: str | None = None,
    due_date: dt.date | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    issue: bool = True,
    expected_total: Decimal | None = None,
    memo: str = "",
    actor: Actor,
    reason: str = "Invoice created",
) -> Invoice:
    """Create an invoice from its lines; `issue=True` opens it at once.

    `expected_total`, when a source system states one, must equal the total the
    lines add up to: a mismatch is refused rather than silently recomputed.
    """
    legal_entity, currency, due_date = invoice_header(
        customer=customer,
        issue_date=issue_date,
        tax_mode=tax_mode,
        contract=contract,
        legal_entity=legal_entity,
        currency=currency,
        due_date=due_date,
        period_start=period_start,
        period_end=period_end,
    )
    if Invoice.objects.filter(legal_entity=legal_entity, number=number).exists():
        raise invoice_number_taken(legal_entity, number)
    invoice, line_fields = invoice_draft(
        number=number,
        customer=customer,
        contract=contract,
        legal_entity=legal_entity,
        currency=currency,
        issue_date=issue_date,
        due_date=due_date,
        period_start=period_start,
        period_end=period_end,
        tax_mode=tax_mode,
        lines=lines,
        expected_total=expected_total,
        memo=memo,
    )
    stamp(invoice, actor, reason)
    invoice.save()
    for values in line_fields:
        line = model_instance(InvoiceLine, {**values, "invoice": invoice})
        stamp(line, actor, reason)
        line.save()
    if issue:
        return invoice_issue(invoice=invoice, actor=actor)
    return invoice


def issued_status(invoice: Invoice) -> str:
    """The status a draft invoice takes when issued: paid when nothing is due."""
    return Invoice.Status.OPEN if invoice.amount_due > 0 else Invoice.Status.PAID


def issued_event_payload(invoice: Invoice) -> dict:
    return {
        "number": invoice.number,
        "total": invoice.total,
        "currency": invoice.currency,
        "tax_mode": invoice.tax_mode,
        "due_date": invoice.due_date,
    }


@transaction.atomic
def invoice_issue(*, invoice: Invoice, actor: Actor, reason: str = "Invoice issued") -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != Invoice.Status.DRAFT:
        raise field_error(
            "status", f"Only a draft invoice can be issued; {invoice.number} is {invoice.status}."
        )
    invoice.status = issued_status(invoice)
    stamp(invoice, actor, reason)
    invoice.save()
    event_record(
        type="invoice.issued",
        subject=invoice,
        actor=actor,
        correlation_id=invoice.correlation_id,
        payload=issued_event_payload(invoice),
    )
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: Actor, reason: str) -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.VOID:
        return invoice
    if invoice.amount_paid > 0:
        raise field_error(
            "status",
            f"{invoice.number} has {money_text(invoice.amount_paid, invoice.currency)} applied; unapply it first.",
        )
    if invoice.amount_credited > 0:
        raise field_error("status", f"{invoice.number} has credit notes; void them first.")
    if not reason.strip():
        raise field_error("reason", "Say why the invoice is voided.")
    invoice.status = Invoice.Status.VOID
    invoice.amount_due = ZERO  # a void invoice owes nothing; its total stays as issued
    stamp(invoice, actor, reason)
    invoice.save()
    event_record(
        type="invoice.voided",
        subject=invoice,
        actor=actor,
        correlation_id=invoice.correlation_id,
        payload={"reason": reason},
    )
    return invoice


@transaction.atomic
def invoice_mark_uncollectible(*, invoice: Invoice, actor: Actor, reason: str) -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != Invoice.Status.OPEN:
        raise field_error(
            "status", f"Only an open invoice can be marked uncollectible; it is {invoice.status}."
        )
    invoice.status = Invoice.Status.UNCOLLECTIBLE
    stamp(invoice, actor, reason)
    invoice.save()
    event_record(
        type="invoice.uncollectible",
        subject=invoice,
        actor=actor,
        correlation_id=invoice.correlation_id,
        payload={"reason": reason},
    )
    return invoice


def invoice_recalculate(invoice: Invoice, actor: Actor, reason: str) -> Invoice:
    """Refresh paid, credited, due and status from applications and credit notes.
    The caller holds the invoice row lock."""
    paid = (
        PaymentApplication.objects.filter(invoice=invoice, status=PaymentApplication.Status.ACTIVE).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    credited = (
        CreditNote.objects.filter(invoice=invoice, status=CreditNote.Status.ISSUED).aggregate(s=Sum("total"))[
            "s"
        ]
        or ZERO
    )
    due = invoice.total - paid - credited
    if due < 0:
        raise DomainValidationError(
            {
                "amount": [
                    f"This would settle {invoice.number} beyond its total ({money_text(-due, invoice.currency)} too much)."
                ]
            }
        )
    invoice.amount_paid, invoice.amount_credited, invoice.amount_due = paid, credited, due
    if invoice.status in (Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE):
        if due == 0:
            invoice.status = Invoice.Status.PAID
        elif invoice.status == Invoice.Status.PAID:
            invoice.status = Invoice.Status.OPEN
    stamp(invoice, actor, reason)
    invoice.save()
    return invoice


@transaction.atomic
def credit_note_issue(
    *,
    invoice: Invoice,
    number: str,
    issue_date: dt.date,
    lines: list[CreditLineSpec],
    actor: Actor,
    reason: str,
) -> CreditNote:
    """Credit part or all of an invoice; reduces its amount due."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE):
        raise field_error(
            "invoice", f"Only an open invoice can be credited; {invoice.number} is {invoice.status}."
        )
    if not reason.strip():
        raise field_error("reason", "Say why the credit is given.")
    if not lines:
        raise field_error("lines", "A credit note needs at least one line.")
    if CreditNote.objects.filter(legal_entity=invoice.legal_entity, number=number).exists():
        raise field_error("number", f"Credit note {number} already exists in {invoice.legal_entity.code}.")
    built = []
    for index, spec in enumerate(lines, start=1):
        amount = quantize(_number(spec.amount, f"lines[{index}].amount"), invoice.currency)
        if amount <= 0:
            raise field_error(f"lines[{index}].amount", "A credit line amount must be positive.")
        if spec.invoice_line is not None and spec.invoice_line.invoice_id != invoice.pk:
            raise field_error(f"lines[{index}].invoice_line", "That line belongs to another invoice.")
        if spec.tax_amount is not None:
            tax = quantize(_number(spec.tax_amount, f"lines[{index}].tax_amount"), invoice.currency)
        elif spec.invoice_line is not None:
            tax = line_tax(amount, spec.invoice_line.tax_rate, invoice.tax_mode, invoice.currency)
        else:
            tax = quantize(0, invoice.currency)
        built.append(
            CreditNoteLine(
                line_number=index,
                invoice_line=spec.invoice_line,
                description=spec.description[:300],
                amount=amount,
                tax_amount=tax,
            )
        )
    subtotal, tax_total, total = header_totals(
        [(line.amount, line.tax_amount) for line in built], invoice.tax_mode
    )
    if total > invoice.amount_due:
        raise field_error(
            "lines",
            f"The credit of {money_text(total, invoice.currency)} exceeds the "
            f"{money_text(invoice.amount_due, invoice.currency)} still due on "
            f"{invoice.number}; refund the payment instead.",
        )
    note = CreditNote(
        number=number,
        invoice=invoice,
        customer=invoice.customer,
        legal_entity=invoice.legal_entity,
        currency=invoice.currency,
        issue_date=issue_date,
        reason=reason.strip()[:300],
        tax_mode=invoice.tax_mode,
        subtotal=subtotal,
        tax_total=tax_total,
        total=total,
        correlation_id=invoice.correlation_id,
    )
    stamp(note, actor, reason)
    note.save()
    for line in built:
        line.credit_note = note
        stamp(line, actor, reason)
        line.save()
    invoice_recalculate(invoice, actor, f"Credit note {number}: {reason}")
    event_record(
        type="credit_note.issued",
        subject=note,
        actor=actor,
        correlation_id=invoice.correlation_id,
        payload={"invoice": invoice.number, "total": total, "currency": invoice.currency},
    )
    return note
