"""Write mapped records into the canonical model through the revops services.

Each writer finds "its" object by ExternalRef (system, object type, external
id), creates or updates it through the services with the connector run as the
actor, and says what happened: created, updated, unchanged or skipped (every
change refused by ownership rules). Problems a person must fix are raised as
`BusinessError` with a code from the exception taxonomy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from connectors import records as r
from connectors import tax_check
from connectors.errors import BusinessError
from revops.actors import Actor
from revops.correlation import correlation_scope
from revops.models import (
    Contract,
    ContractLine,
    CreditNote,
    Customer,
    Invoice,
    LegalEntity,
    Payment,
    Product,
)
from revops.selectors.refs import find_by_external_id
from revops.services import billing, catalog, contracts, parties, payments
from revops.services.events import event_record, external_ref_link

CREATED, UPDATED, UNCHANGED, SKIPPED = "created", "updated", "unchanged", "skipped"

_INTERVALS = {"month": "month", "quarter": "quarter", "year": "year", None: "one_time"}


@dataclass
class WriteContext:
    system: str  # ExternalRef system and ownership system, e.g. "stripe"
    actor: Actor
    legal_entity: LegalEntity
    reason: str  # e.g. "Sync stripe-us run 12"
    # An analyst's resubmission directives (correction keys starting with "_",
    # e.g. {"_tax": "use_expected"}), with "_reason" and "_exception" added.
    directives: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Look-ups shared by the records of one page (e.g. the tax rate table).
    cache: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class WriteResult:
    outcome: str
    obj: Any = None
    message: str = ""


def _business(exc: ValidationError, *, default_code: str = "VALIDATION_FAILED", codes=None) -> BusinessError:
    """A service's validation error as a business error, keeping field and message."""
    messages = getattr(exc, "message_dict", None) or {"": exc.messages}
    field_name, field_messages = next(iter(messages.items()))
    text = " ".join(field_messages)
    code = (codes or {}).get(field_name, default_code)
    if "already exists" in text or "already in use" in text:
        code = "DUPLICATE_DOCUMENT"
    return BusinessError(text, code=code, field=field_name, details={"errors": messages})


def _find(ctx: WriteContext, object_type: str, external_id: str | None):
    if not external_id:
        return None
    return find_by_external_id(system=ctx.system, object_type=object_type, external_id=external_id)


def _link(ctx: WriteContext, object_type: str, external_id: str, obj) -> None:
    external_ref_link(
        system=ctx.system,
        object_type=object_type,
        external_id=external_id,
        target=obj,
        actor=ctx.actor,
        reason=ctx.reason,
    )


def _require(ctx: WriteContext, object_type: str, external_id: str | None, *, code: str, what: str):
    obj = _find(ctx, object_type, external_id)
    if obj is None:
        raise BusinessError(
            f"{what} {external_id or '(none)'} is not known in revops yet; sync or create it first.",
            code=code,
            field=f"{object_type}_external_id",
            actual=external_id,
        )
    return obj


# -- customers and catalog ---------------------------------------------------------------


def write_customer(rec: r.CustomerRecord, ctx: WriteContext) -> WriteResult:
    values: dict[str, Any] = {"name": rec.name[:200]}
    address = rec.address
    for field, value in (
        ("address_line1", address.line1),
        ("address_line2", address.line2),
        ("city", address.city),
        ("region", address.region),
        ("postal_code", address.postal_code),
        ("country", address.country),
    ):
        if value:
            values[field] = value[:200]
    if rec.tax_id:
        values["tax_id"] = rec.tax_id
        values["tax_country"] = address.country or ctx.legal_entity.country
    if rec.deleted:
        values["status"] = Customer.Status.CLOSED
    customer = _find(ctx, "customer", rec.external_id)
    try:
        if customer is None:
            values.setdefault("country", ctx.legal_entity.country)
            name = values.pop("name")
            country = values.pop("country")
            customer = parties.customer_create(
                number=rec.external_id[:40],
                name=name,
                legal_entity=ctx.legal_entity,
                currency=rec.currency or ctx.legal_entity.functional_currency,
                country=country,
                actor=ctx.actor,
                reason=ctx.reason,
                **values,
            )
            _link(ctx, "customer", rec.external_id, customer)
            if rec.email:
                parties.contact_add(
                    customer=customer,
                    name=rec.name[:200],
                    email=rec.email,
                    actor=ctx.actor,
                    reason=ctx.reason,
                )
            return WriteResult(CREATED, customer)
        result = parties.customer_apply(customer=customer, changes=values, actor=ctx.actor, reason=ctx.reason)
    except ValidationError as exc:
        raise _business(exc) from None
    return _update_outcome(result)


def _update_outcome(result) -> WriteResult:
    if result.changed:
        note = f"refused by ownership: {', '.join(sorted(result.refused))}" if result.refused else ""
        return WriteResult(UPDATED, result.obj, note)
    if result.refused:
        owners = ", ".join(f"{f} (owned by {o})" for f, o in sorted(result.refused.items()))
        return WriteResult(SKIPPED, result.obj, f"every change refused by ownership rules: {owners}")
    return WriteResult(UNCHANGED, result.obj)


def write_product(rec: r.ProductRecord, ctx: WriteContext) -> WriteResult:
    product = _find(ctx, "product", rec.external_id)
    try:
        if product is None:
            product = Product.objects.filter(sku=rec.sku[:60]).first()
            if product is None:
                product = catalog.product_create(
                    sku=rec.sku[:60],
                    name=rec.name[:200],
                    description=rec.description,
                    revenue_category=Product.RevenueCategory.SUBSCRIPTION,
                    pricing_model=Product.PricingModel.PER_UNIT,
                    unit_label=rec.unit_label[:40],
                    actor=ctx.actor,
                    reason=ctx.reason,
                )
                _link(ctx, "product", rec.external_id, product)
                return WriteResult(CREATED, product)
            _link(ctx, "product", rec.external_id, product)
        changes = {"name": rec.name[:200], "description": rec.description, "active": rec.active}
        result = catalog.product_update(product=product, changes=changes, actor=ctx.actor, reason=ctx.reason)
    except ValidationError as exc:
        raise _business(exc) from None
    return _update_outcome(result)


def write_price(rec: r.PriceRecord, ctx: WriteContext) -> WriteResult:
    existing = _find(ctx, "price", rec.external_id)
    if existing is not None:
        return WriteResult(UNCHANGED, existing)
    product = _require(ctx, "product", rec.product_external_id, code="UNKNOWN_PRODUCT", what="Product")
    interval = _INTERVALS.get(rec.recurring_interval, "")
    try:
        price = catalog.price_create(
            product=product,
            currency=rec.currency,
            unit_amount=rec.unit_amount,
            active_from=rec.created or timezone.localdate(),
            billing_interval=interval,
            tiers=[dict(t) for t in rec.tiers] or None,
            actor=ctx.actor,
            reason=ctx.reason,
        )
    except ValidationError as exc:
        raise _business(exc) from None
    _link(ctx, "price", rec.external_id, price)
    return WriteResult(CREATED, price)


# -- contracts ---------------------------------------------------------------------------------


def _line_specs(ctx: WriteContext, lines) -> list[tuple[str, contracts.LineSpec]]:
    specs = []
    for line in lines:
        product = _require(ctx, "product", line.product_external_id, code="UNKNOWN_PRODUCT", what="Product")
        specs.append((line.external_id, contracts.LineSpec(product, line.quantity, line.unit_price)))
    return specs


def write_contract(rec: r.ContractRecord, ctx: WriteContext) -> WriteResult:
    contract = _find(ctx, "contract", rec.external_id)
    try:
        if contract is None:
            return _create_contract(rec, ctx)
        return _update_contract(contract, rec, ctx)
    except ValidationError as exc:
        raise _business(
            exc, codes={"status": "INVALID_CONTRACT_STATE", "currency": "CURRENCY_MISMATCH"}
        ) from None


def _create_contract(rec: r.ContractRecord, ctx: WriteContext) -> WriteResult:
    customer = _require(ctx, "customer", rec.customer_external_id, code="UNKNOWN_CUSTOMER", what="Customer")
    specs = _line_specs(ctx, rec.lines)
    contract = contracts.contract_create(
        number=rec.external_id[:40],
        customer=customer,
        start_date=rec.start_date,
        end_date=rec.end_date,
        billing_frequency=rec.billing_frequency,
        currency=rec.currency,
        lines=[spec for _, spec in specs],
        actor=ctx.actor,
        reason=ctx.reason,
    )
    _link(ctx, "contract", rec.external_id, contract)
    for (line_id, _), line in zip(specs, contract.lines.order_by("id"), strict=True):
        _link(ctx, "contract_line", line_id, line)
    if rec.status in (Contract.Status.ACTIVE, Contract.Status.CANCELLED) and specs:
        _deal_won(contract, rec, ctx)
        contracts.contract_activate(contract=contract, actor=ctx.actor, reason=ctx.reason)
    if rec.status == Contract.Status.CANCELLED:
        _cancel(contract, rec, ctx)
    return WriteResult(CREATED, contract)


def _deal_won(contract: Contract, rec: r.ContractRecord, ctx: WriteContext) -> None:
    """The CRM's deal won, on the contract's flow, when the CRM says when: the order
    activation SLA runs from it to the contract's activation."""
    if rec.won_at is None:
        return
    event_record(
        type="deal.won",
        subject=contract,
        actor=ctx.actor,
        correlation_id=contract.correlation_id,
        occurred_at=min(rec.won_at, timezone.now()),
        payload={"deal": rec.external_id, "system": ctx.system},
    )


def _cancel(contract: Contract, rec: r.ContractRecord, ctx: WriteContext) -> None:
    day = rec.cancelled_at.date() if rec.cancelled_at else timezone.localdate()
    contracts.contract_cancel(
        contract=contract,
        effective_date=day,
        actor=ctx.actor,
        reason=f"{ctx.reason}: cancelled in {ctx.system}",
    )


def _amendment_date(contract: Contract, wanted: dt.date | None = None) -> dt.date:
    """The source's date (else today), or the day after the latest line start when a
    line started on or after it."""
    latest = contract.lines.order_by("-effective_from").values_list("effective_from", flat=True).first()
    today = wanted or timezone.localdate()
    if latest is not None and latest >= today:
        return latest + dt.timedelta(days=1)
    return today


def _update_contract(contract: Contract, rec: r.ContractRecord, ctx: WriteContext) -> WriteResult:
    changed = False
    if contract.status == Contract.Status.DRAFT and rec.status in (
        Contract.Status.ACTIVE,
        Contract.Status.CANCELLED,
    ):
        _deal_won(contract, rec, ctx)
        contracts.contract_activate(contract=contract, actor=ctx.actor, reason=ctx.reason)
        contract.refresh_from_db()
        changed = True
    if contract.status in (Contract.Status.DRAFT, Contract.Status.ACTIVE):
        changed |= _amend_lines(contract, rec, ctx)
    if rec.status == Contract.Status.CANCELLED and contract.status != Contract.Status.CANCELLED:
        if contract.status == Contract.Status.EXPIRED:
            raise BusinessError(
                f"{ctx.system} cancelled {rec.external_id}, but revops already has it expired.",
                code="INVALID_CONTRACT_STATE",
                field="status",
                expected="active",
                actual=contract.status,
            )
        _cancel(contract, rec, ctx)
        changed = True
    return WriteResult(UPDATED if changed else UNCHANGED, contract)


def _amend_lines(contract: Contract, rec: r.ContractRecord, ctx: WriteContext) -> bool:
    current = {}
    for line in contract.lines.filter(replaced_by__isnull=True, ended_by__isnull=True):
        ref = _external_line_id(ctx, line)
        if ref:
            current[ref] = line
    line_changes, new_lines, new_ids = [], [], []
    for line_id, spec in _line_specs(ctx, rec.lines):
        line = current.pop(line_id, None)
        if line is None:
            new_lines.append(spec)
            new_ids.append(line_id)
        elif line.quantity != spec.quantity or line.unit_price != Decimal(spec.unit_price):
            line_changes.append(
                contracts.LineChange(line=line, quantity=spec.quantity, unit_price=spec.unit_price)
            )
    line_changes += [contracts.LineChange(line=line, end=True) for line in current.values()]
    if not line_changes and not new_lines:
        return False
    amendment = contracts.contract_amend(
        contract=contract,
        effective_date=_amendment_date(contract, rec.effective_date),
        changes=line_changes,
        new_lines=new_lines,
        actor=ctx.actor,
        reason=f"{ctx.reason}: subscription changed in {ctx.system}",
    )
    for line_id, line in zip(
        new_ids, amendment.added_lines.filter(replaces__isnull=True).order_by("id"), strict=True
    ):
        _link(ctx, "contract_line", line_id, line)
    for successor in amendment.added_lines.filter(replaces__isnull=False):
        predecessor_id = _external_line_id(ctx, successor.replaces)
        # The source keeps one id for the item across amendments: it now names the successor.
        if predecessor_id:
            _relink(ctx, "contract_line", predecessor_id, successor)
    return True


def _external_line_id(ctx: WriteContext, line: ContractLine) -> str | None:
    from revops.selectors.refs import external_id_of

    return external_id_of(system=ctx.system, obj=line)


def _relink(ctx: WriteContext, object_type: str, external_id: str, obj) -> None:
    from revops.services.events import external_ref_move

    external_ref_move(
        system=ctx.system,
        object_type=object_type,
        external_id=external_id,
        target=obj,
        actor=ctx.actor,
        reason=ctx.reason,
    )


# -- invoices and credit notes --------------------------------------------------------------


def write_invoice(rec: r.InvoiceRecord, ctx: WriteContext) -> WriteResult:
    invoice = _find(ctx, "invoice", rec.external_id)
    try:
        if invoice is None:
            return _create_invoice(rec, ctx)
        return _update_invoice(invoice, rec, ctx)
    except ValidationError as exc:
        raise _business(
            exc,
            codes={
                "total": "AMOUNT_MISMATCH",
                "currency": "CURRENCY_MISMATCH",
                "contract": "VALIDATION_FAILED",
            },
        ) from None


def _create_invoice(rec: r.InvoiceRecord, ctx: WriteContext) -> WriteResult:
    customer = _require(ctx, "customer", rec.customer_external_id, code="UNKNOWN_CUSTOMER", what="Customer")
    # TAX_MISMATCH unless the tax is as expected or the analyst said how to resolve it.
    resolved = tax_check.resolution(rec, tax_check.check_invoice_tax(rec, ctx, customer=customer), ctx)
    if resolved is not None:
        rec = resolved.record
    contract = _find(ctx, "contract", rec.contract_external_id)
    lines = []
    for line in rec.lines:
        product = _find(ctx, "product", line.product_external_id)
        lines.append(
            billing.InvoiceLineSpec(
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                amount=line.amount,
                tax_amount=line.tax_amount,
                tax_rate=line.tax_rate,
                tax_jurisdiction=line.tax_jurisdiction[:100],
                product=product,
                period_start=line.period_start,
                period_end=line.period_end,
            )
        )
    invoice = billing.invoice_create(
        number=(rec.number or rec.external_id)[:40],
        customer=customer,
        contract=contract,
        legal_entity=ctx.legal_entity,
        currency=rec.currency,
        issue_date=rec.issue_date,
        due_date=max(rec.due_date, rec.issue_date) if rec.due_date else None,
        period_start=rec.period_start,
        period_end=rec.period_end,
        tax_mode=rec.tax_mode,
        lines=lines,
        issue=rec.status != Invoice.Status.DRAFT,
        expected_total=resolved.expected_total if resolved else rec.total,
        actor=ctx.actor,
        reason=f"{ctx.reason}: {resolved.note}" if resolved else ctx.reason,
    )
    _link(ctx, "invoice", rec.external_id, invoice)
    if resolved is not None:
        event_record(
            type=resolved.event_type,
            subject=invoice,
            actor=ctx.actor,
            correlation_id=invoice.correlation_id,
            payload=resolved.event_payload,
        )
    _follow_status(invoice, rec, ctx)
    return WriteResult(CREATED, invoice)


def _follow_status(invoice: Invoice, rec: r.InvoiceRecord, ctx: WriteContext) -> bool:
    reason = f"{ctx.reason}: {rec.status} in {ctx.system}"
    if rec.status == Invoice.Status.VOID and invoice.status != Invoice.Status.VOID:
        billing.invoice_void(invoice=invoice, actor=ctx.actor, reason=reason)
        return True
    if rec.status == Invoice.Status.UNCOLLECTIBLE and invoice.status == Invoice.Status.OPEN:
        billing.invoice_mark_uncollectible(invoice=invoice, actor=ctx.actor, reason=reason)
        return True
    if rec.status in (Invoice.Status.OPEN, Invoice.Status.PAID) and invoice.status == Invoice.Status.DRAFT:
        billing.invoice_issue(invoice=invoice, actor=ctx.actor, reason=reason)
        return True
    return False


def _tax_corrected_from(invoice: Invoice, total) -> bool:
    """True when revops corrected this invoice's tax away from a source total of `total`."""
    from revops.models import BusinessEvent

    return any(
        _same_amount(payload.get("source_total"), total)
        for payload in BusinessEvent.objects.filter(
            type="invoice.tax_corrected",
            subject_type__model="invoice",
            subject_type__app_label="revops",
            subject_id=invoice.pk,
        ).values_list("payload", flat=True)
    )


def _same_amount(stored, amount) -> bool:
    try:
        return Decimal(str(stored)) == amount
    except ArithmeticError:
        return False


def _update_invoice(invoice: Invoice, rec: r.InvoiceRecord, ctx: WriteContext) -> WriteResult:
    if (
        invoice.status != Invoice.Status.DRAFT
        and invoice.total != rec.total
        and not _tax_corrected_from(invoice, rec.total)
    ):
        raise BusinessError(
            f"Invoice {invoice.number} was issued for {invoice.total} {invoice.currency} but {ctx.system} now "
            f"says {rec.total} {rec.currency}; an issued invoice cannot change its total.",
            code="AMOUNT_MISMATCH",
            field="total",
            expected=str(invoice.total),
            actual=str(rec.total),
        )
    changed = _follow_status(invoice, rec, ctx)
    return WriteResult(UPDATED if changed else UNCHANGED, invoice)


def write_credit_note(rec: r.CreditNoteRecord, ctx: WriteContext) -> WriteResult:
    existing = _find(ctx, "credit_note", rec.external_id)
    if existing is not None:
        return WriteResult(UNCHANGED, existing)
    if rec.status != CreditNote.Status.ISSUED:
        return WriteResult(UNCHANGED, None, f"credit note is {rec.status} in {ctx.system}; nothing to record")
    invoice = _require(ctx, "invoice", rec.invoice_external_id, code="VALIDATION_FAILED", what="Invoice")
    lines = [billing.CreditLineSpec(line.description, line.amount, line.tax_amount) for line in rec.lines]
    try:
        note = billing.credit_note_issue(
            invoice=invoice,
            number=(rec.number or rec.external_id)[:40],
            issue_date=rec.issue_date,
            lines=lines,
            actor=ctx.actor,
            reason=rec.reason or f"{ctx.reason}: credit note",
        )
    except ValidationError as exc:
        raise _business(exc, codes={"lines": "AMOUNT_MISMATCH"}) from None
    _link(ctx, "credit_note", rec.external_id, note)
    return WriteResult(CREATED, note)


# -- payments -------------------------------------------------------------------------------------


def write_payment(rec: r.PaymentRecord, ctx: WriteContext) -> WriteResult:
    payment = _find(ctx, "payment", rec.external_id)
    try:
        if payment is None:
            if rec.status != "succeeded":
                return WriteResult(
                    UNCHANGED, None, f"payment is {rec.status}; only settled payments are recorded"
                )
            return _create_payment(rec, ctx)
        if rec.amount_refunded >= rec.amount and payment.status != Payment.Status.REVERSED:
            payments.payment_reverse(
                payment=payment, actor=ctx.actor, reason=f"{ctx.reason}: refunded in full"
            )
            return WriteResult(UPDATED, payment)
        return WriteResult(UNCHANGED, payment)
    except ValidationError as exc:
        raise _business(exc, codes={"invoice": "VALIDATION_FAILED", "amount": "AMOUNT_MISMATCH"}) from None


def _create_payment(rec: r.PaymentRecord, ctx: WriteContext) -> WriteResult:
    customer = _find(ctx, "customer", rec.customer_external_id)
    payment = payments.payment_receive(
        number=rec.external_id[:40],
        legal_entity=ctx.legal_entity,
        customer=customer,
        amount=rec.amount,
        currency=rec.currency,
        received_date=rec.received_date,
        method=rec.method,
        gateway=ctx.system,
        gateway_reference=rec.gateway_reference or rec.external_id,
        actor=ctx.actor,
        reason=ctx.reason,
    )
    _link(ctx, "payment", rec.external_id, payment)
    invoice = _find(ctx, "invoice", rec.invoice_external_id)
    if invoice is not None and invoice.amount_due > 0:
        payments.payment_apply(payment=payment, invoice=invoice, actor=ctx.actor, reason=ctx.reason)
    elif rec.invoice_external_id and invoice is None:
        raise BusinessError(
            f"Payment {rec.external_id} pays invoice {rec.invoice_external_id}, which revops does not know yet.",
            code="VALIDATION_FAILED",
            field="invoice",
            actual=rec.invoice_external_id,
        )
    return WriteResult(CREATED, payment)


def write_refund(rec: r.RefundRecord, ctx: WriteContext) -> WriteResult:
    if rec.status != "succeeded":
        return WriteResult(UNCHANGED, None, f"refund is {rec.status}; nothing to record yet")
    payment = _require(ctx, "payment", rec.payment_external_id, code="VALIDATION_FAILED", what="Payment")
    if payment.status == Payment.Status.REVERSED:
        return WriteResult(UNCHANGED, payment)
    if rec.amount >= payment.amount:
        payments.payment_reverse(
            payment=payment, actor=ctx.actor, reason=f"{ctx.reason}: refund {rec.external_id}"
        )
        return WriteResult(UPDATED, payment)
    event_record(
        type="payment.partially_refunded",
        subject=payment,
        actor=ctx.actor,
        correlation_id=payment.correlation_id,
        payload={
            "refund": rec.external_id,
            "amount": rec.amount,
            "currency": rec.currency,
            "reason": rec.reason,
        },
    )
    return WriteResult(UPDATED, payment, "partial refund recorded as a business event")


WRITERS = {
    r.CustomerRecord: write_customer,
    r.ProductRecord: write_product,
    r.PriceRecord: write_price,
    r.ContractRecord: write_contract,
    r.InvoiceRecord: write_invoice,
    r.CreditNoteRecord: write_credit_note,
    r.PaymentRecord: write_payment,
    r.RefundRecord: write_refund,
}


def write(record: object, ctx: WriteContext) -> WriteResult:
    writer = WRITERS.get(type(record))
    if writer is None:
        raise TypeError(f"No writer for {type(record).__name__}.")
    # Logs, and calls out (e.g. the tax engine's for an invoice), carry the flow's id.
    with correlation_scope(_flow_of(record, ctx)):
        return writer(record, ctx)


def _flow_of(record: object, ctx: WriteContext):
    """The correlation id the record's writes will carry, when revops knows it already:
    an invoice joins its contract's flow; a contract keeps its own."""
    if isinstance(record, r.InvoiceRecord):
        known = _find(ctx, "invoice", record.external_id)
        known = known or _find(ctx, "contract", record.contract_external_id)
    elif isinstance(record, r.ContractRecord):
        known = _find(ctx, "contract", record.external_id)
    else:
        return None
    return getattr(known, "correlation_id", None)


__all__ = ["CREATED", "SKIPPED", "UNCHANGED", "UPDATED", "WriteContext", "WriteResult", "write"]


# -- usage ----------------------------------------------------------------------------------------


def write_usage(rec: r.UsageRecordIn, ctx: WriteContext) -> WriteResult:
    """Record one usage event on its contract line; a repeated event id is unchanged.
    Usage for a period already invoiced raises LATE_USAGE unless the analyst's
    directive says how to bill it (connectors.late_usage)."""
    from connectors import late_usage
    from revops.services.usage import LateUsage, usage_record

    line = _usage_line(rec, ctx)
    try:
        usage, created = usage_record(
            contract_line=line,
            quantity=rec.quantity,
            usage_at=rec.usage_at,
            source=ctx.system,
            source_event_id=rec.external_id,
            period_start=rec.period_start,
            period_end=rec.period_end,
            late_treatment=late_usage.treatment(ctx),
            actor=ctx.actor,
            reason=late_usage.reason(ctx),
        )
    except LateUsage as exc:
        raise late_usage.late_error(exc, rec, ctx) from None
    except ValidationError as exc:
        raise _business(
            exc, codes={"usage_at": "INVALID_CONTRACT_STATE", "late_treatment": "LATE_USAGE"}
        ) from None
    if created:
        return WriteResult(CREATED, usage)
    if usage.quantity != rec.quantity:
        return WriteResult(
            UNCHANGED,
            usage,
            f"usage event {rec.external_id} was already recorded with quantity {usage.quantity}; "
            f"{rec.quantity} was not applied",
        )
    return WriteResult(UNCHANGED, usage)


def _usage_line(rec: r.UsageRecordIn, ctx: WriteContext) -> ContractLine:
    if rec.contract_line_external_id:
        line = _find(ctx, "contract_line", rec.contract_line_external_id)
        if line is not None:
            return line
    contract = _find(ctx, "contract", rec.contract_external_id) or (
        Contract.objects.filter(number=rec.contract_external_id).first() if rec.contract_external_id else None
    )
    if contract is None:
        raise BusinessError(
            f"Usage {rec.external_id} is for contract {rec.contract_external_id or '(none)'}, "
            "which revops does not know.",
            code="INVALID_CONTRACT_STATE",
            field="contract_external_id",
            actual=rec.contract_external_id,
        )
    if contract.status == Contract.Status.DRAFT:
        raise BusinessError(
            f"Contract {contract.number} is still a draft; usage needs an active contract.",
            code="INVALID_CONTRACT_STATE",
            field="contract_external_id",
            expected="active",
            actual=contract.status,
        )
    product = _find(ctx, "product", rec.product_external_id) or (
        Product.objects.filter(sku=rec.product_external_id).first() if rec.product_external_id else None
    )
    lines = list(contract.lines.filter(product=product).order_by("effective_from", "id")) if product else []
    if not lines:
        raise BusinessError(
            f"Contract {contract.number} has no line for product {rec.product_external_id or '(none)'}.",
            code="UNKNOWN_PRODUCT",
            field="product_external_id",
            actual=rec.product_external_id,
        )
    day = rec.usage_at.date()
    for line in lines:
        if line.is_effective_on(day):
            return line
    raise BusinessError(
        f"Contract {contract.number} has no line for {product.sku} in effect on {day}.",
        code="INVALID_CONTRACT_STATE",
        field="usage_at",
        actual=str(day),
    )


WRITERS[r.UsageRecordIn] = write_usage
