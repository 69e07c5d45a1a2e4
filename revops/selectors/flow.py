"""One quote-to-cash flow: the steps a contract's correlation id went through.

Steps, in order: deal won, contract activated; then for each invoice of the
flow: usage closed (its billing period ended), invoice issued, posted to the
ERP, payment received, payment applied, revenue handed off. Each step says the
system that did it, when, its status (done, pending, failed, not applicable, or
breaching its SLA: done late, or still pending past it), the lag from the step
it follows, and links to the objects. Pure reads: business events sharing the
correlation id, the contract, its invoices, the payments applied to them, and,
through the sources other apps register (revops.selectors.flow_sources), the
ERP postings and the exception items of the flow.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from revops.models import BusinessEvent, Contract, Invoice, Payment, PaymentApplication
from revops.selectors.flow_sources import FlowException, FlowPosting, flow_exceptions, flow_postings
from revops.selectors.sla import (
    ERP_SYNC,
    INVOICE_GENERATION,
    ORDER_ACTIVATION,
    PAYMENT_POSTING,
    SlaCheck,
    period_ended_at,
)

INVOICES_SHOWN = 60
EVENTS_READ = 2000

DONE, PENDING, FAILED, NOT_APPLICABLE, BREACHING = "done", "pending", "failed", "not_applicable", "breaching"
STATUS_LABELS = {
    DONE: "Done",
    PENDING: "Pending",
    FAILED: "Failed",
    NOT_APPLICABLE: "Not applicable",
}


@dataclass
class FlowStep:
    key: str
    label: str
    state: str = PENDING
    system: str = ""
    at: dt.datetime | None = None
    after: FlowStep | None = None  # the step its lag is measured from
    sla: SlaCheck | None = None
    links: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""

    @property
    def lag(self) -> dt.timedelta | None:
        if self.at is None or self.after is None or self.after.at is None:
            return None
        return self.at - self.after.at

    @property
    def lag_label(self) -> str:
        """How a later step names this one: "after invoice issued", "after posted to ERP"."""
        return self.label[0].lower() + self.label[1:]

    @property
    def breaching(self) -> bool:
        return self.sla is not None and self.sla.breached

    @property
    def status(self) -> str:
        if self.state == FAILED:
            return FAILED
        if self.breaching:
            return BREACHING
        return self.state

    @property
    def status_label(self) -> str:
        if self.status == BREACHING:
            late = "done late" if self.state == DONE else "pending past its SLA"
            return f"Breaching SLA ({late})"
        return STATUS_LABELS[self.state]


@dataclass
class FlowStage:
    title: str
    url: str | None
    steps: list[FlowStep]


@dataclass
class Flow:
    correlation_id: uuid.UUID
    contract: Contract | None
    stages: list[FlowStage]
    exceptions: list[FlowException]
    postings: list[FlowPosting]
    events: list[BusinessEvent]
    invoices_cut: bool  # the flow has more invoices than INVOICES_SHOWN
    now: dt.datetime
    invoices_limit: int = INVOICES_SHOWN

    @property
    def steps(self) -> list[FlowStep]:
        return [step for stage in self.stages for step in stage.steps]

    @property
    def breaching_steps(self) -> list[FlowStep]:
        return [step for step in self.steps if step.breaching]

    @property
    def open_exceptions(self) -> list[FlowException]:
        return [item for item in self.exceptions if item.is_open]


class NoSuchFlow(LookupError):
    pass


class _Events:
    """The flow's events, looked up by (type, subject)."""

    def __init__(self, events: list[BusinessEvent]):
        self.first: dict[tuple[str, int, int], BusinessEvent] = {}
        for event in events:
            self.first.setdefault((event.type, event.subject_type_id, event.subject_id), event)

    def of(self, event_type: str, subject) -> BusinessEvent | None:
        ct = ContentType.objects.get_for_model(subject)
        return self.first.get((event_type, ct.pk, subject.pk))


def flow_detail(correlation_id, *, now: dt.datetime | None = None) -> Flow:
    """The flow of `correlation_id`. Raises NoSuchFlow when nothing carries that id."""
    now = now or timezone.now()
    events = list(
        BusinessEvent.objects.filter(correlation_id=correlation_id).order_by("occurred_at", "id")[
            :EVENTS_READ
        ]
    )
    contract = Contract.objects.select_related("customer").filter(correlation_id=correlation_id).first()
    invoices = list(
        Invoice.objects.filter(correlation_id=correlation_id).order_by("issue_date", "id")[
            : INVOICES_SHOWN + 1
        ]
    )
    invoices_cut = len(invoices) > INVOICES_SHOWN
    invoices = invoices[:INVOICES_SHOWN]
    applications = list(
        PaymentApplication.objects.filter(invoice__in=invoices)
        .select_related("payment")
        .order_by("applied_date", "id")
    )
    loose = list(
        Payment.objects.filter(correlation_id=correlation_id, amount_applied=0).order_by(
            "received_date", "id"
        )
    )
    loose = [payment for payment in loose if not any(a.payment_id == payment.pk for a in applications)]
    payments = {a.payment_id: a.payment for a in applications} | {p.pk: p for p in loose}
    exceptions = flow_exceptions(correlation_id)
    if not (events or contract or invoices or payments or exceptions):
        raise NoSuchFlow(correlation_id)
    # A payment's receipt is recorded before it is applied, under its own id then.
    seen = {event.pk for event in events}
    events += [
        event
        for event in BusinessEvent.objects.filter(
            subject_type=ContentType.objects.get_for_model(Payment),
            subject_id__in=list(payments),
            type="payment.received",
        ).order_by("occurred_at", "id")
        if event.pk not in seen
    ]
    index = _Events(events)
    postings = flow_postings([i.pk for i in invoices], [a.pk for a in applications])
    stages = []
    previous = None
    if contract is not None:
        order = _order_steps(contract, index, now)
        stages.append(
            FlowStage(f"Order {contract.number}", reverse("contract_detail", args=[contract.pk]), order)
        )
        previous = order[-1]
    for invoice in invoices:
        steps = _invoice_steps(invoice, previous, index, applications, postings, events, now)
        stages.append(
            FlowStage(f"Invoice {invoice.number}", reverse("invoice_detail", args=[invoice.pk]), steps)
        )
        previous = steps[1]
    for payment in loose:
        stages.append(
            FlowStage(
                f"Payment {payment.number}",
                reverse("payment_detail", args=[payment.pk]),
                _loose_payment_steps(payment, index, now),
            )
        )
    return Flow(
        correlation_id=correlation_id,
        contract=contract,
        stages=stages,
        exceptions=exceptions,
        postings=postings,
        events=sorted(events, key=lambda e: (e.occurred_at, e.pk)),
        invoices_cut=invoices_cut,
        now=now,
    )


def _done(step: FlowStep, event: BusinessEvent | None) -> FlowStep:
    if event is not None:
        step.state, step.at, step.system = DONE, event.occurred_at, event.source
    return step


def _order_steps(contract: Contract, events: _Events, now: dt.datetime) -> list[FlowStep]:
    contract_link = [(contract.number, reverse("contract_detail", args=[contract.pk]))]
    won = _done(FlowStep("deal_won", "Deal won", links=contract_link), events.of("deal.won", contract))
    if won.at is None:
        created = events.of("contract.created", contract)
        _done(won, created)
        won.note = "No CRM deal recorded: measured from the contract's creation." if created else ""
    else:
        won.note = f"Deal {events.of('deal.won', contract).payload.get('deal', '')}".strip()
    activated = _done(
        FlowStep("contract_activated", "Contract activated", after=won, links=contract_link),
        events.of("contract.activated", contract),
    )
    if activated.at is None and contract.status != Contract.Status.DRAFT:
        activated.state = NOT_APPLICABLE
        activated.note = f"The contract is {contract.get_status_display().lower()} without an activation."
    if won.at is not None and activated.state != NOT_APPLICABLE:
        activated.sla = SlaCheck(ORDER_ACTIVATION, won.at, activated.at, now)
    return [won, activated]


def _invoice_steps(invoice, previous, events, applications, postings, trail, now) -> list[FlowStep]:
    link = [(invoice.number, reverse("invoice_detail", args=[invoice.pk]))]
    closed = FlowStep("usage_closed", "Usage closed", after=previous, system="revops")
    if invoice.period_end is not None:
        closed.at = period_ended_at(invoice.period_end)
        closed.state = DONE if closed.at <= now else PENDING
        closed.note = f"Billing period {invoice.period_start or '…'} – {invoice.period_end} ended."
    else:
        closed.state, closed.note = NOT_APPLICABLE, "The invoice names no billing period."
    issued = _done(
        FlowStep("invoice_issued", "Invoice issued", after=closed if closed.at else previous, links=link),
        events.of("invoice.issued", invoice),
    )
    if issued.at is None and invoice.status != Invoice.Status.DRAFT:
        issued.state, issued.note = NOT_APPLICABLE, "No issue was recorded for this invoice."
    if closed.at is not None and issued.state != NOT_APPLICABLE:
        issued.sla = SlaCheck(INVOICE_GENERATION, closed.at, issued.at, now)
    posted = _posted_step(invoice, issued, postings, now)
    received, applied = _payment_steps(invoice, issued, events, applications, trail, now)
    handed = _done(
        FlowStep("revenue_handed_off", "Revenue handed off", after=posted, links=link),
        events.of("revenue.handed_off", invoice),
    )
    if handed.at is None and posted.state in (NOT_APPLICABLE, FAILED):
        handed.state = NOT_APPLICABLE if posted.state == NOT_APPLICABLE else PENDING
        handed.note = "Handed off once the ERP accepts the invoice."
    return [closed, issued, posted, received, applied, handed]


def _posted_step(invoice, issued: FlowStep, postings: list[FlowPosting], now) -> FlowStep:
    step = FlowStep("posted_to_erp", "Posted to ERP", after=issued)
    mine = [
        p
        for p in postings
        if p.document_type == "invoice" and p.document_id == invoice.pk and p.action == "create"
    ]
    if not mine:
        step.state = NOT_APPLICABLE
        step.note = "No ERP connector posts this invoice."
        return step
    posting = next((p for p in mine if p.posted_at), mine[0])
    step.system = posting.system
    step.links = [(f"{posting.record_type} on {posting.system}", posting.url)]
    if posting.exception_url:
        step.links.append((f"exception item {posting.exception_item_id}", posting.exception_url))
    if posting.posted_at:
        step.state, step.at = DONE, posting.posted_at
    elif posting.cancelled:
        step.state, step.note = NOT_APPLICABLE, "Voided before it reached the ERP."
        return step
    elif posting.failed:
        step.state, step.note = FAILED, f"{posting.status_label}: see the exception item."
    if issued.at is not None:
        step.sla = SlaCheck(ERP_SYNC, issued.at, step.at, now)
    return step


def _payment_steps(invoice, issued, events, applications, trail, now) -> tuple[FlowStep, FlowStep]:
    received = FlowStep("payment_received", "Payment received", after=issued)
    applied = FlowStep("payment_applied", "Payment applied", after=received)
    mine = [a for a in applications if a.invoice_id == invoice.pk]
    if not mine:
        if invoice.status == Invoice.Status.OPEN:
            return received, applied
        received.state = applied.state = NOT_APPLICABLE
        received.note = f"The invoice is {invoice.get_status_display().lower()} with no payment applied."
        return received, applied
    # The first cash that reached the invoice: its receipt and its application.
    firsts = []
    for application in mine:
        receipt = events.of("payment.received", application.payment)
        firsts.append(
            (receipt.occurred_at if receipt else application.payment.created_at, application, receipt)
        )
    _, application, receipt = min(firsts, key=lambda item: (item[0], item[1].pk))
    payment = application.payment
    link = [(payment.number, reverse("payment_detail", args=[payment.pk]))]
    received.links = applied.links = link
    _done(received, receipt)
    if receipt is None:
        received.state, received.at = DONE, payment.created_at
        received.system = payment.gateway or "revops"
    applied_event = next(
        (
            e
            for e in trail
            if e.type == "payment.applied"
            and e.subject_id == payment.pk
            and e.payload.get("invoice") == invoice.number
        ),
        None,
    )
    _done(applied, applied_event)
    if applied_event is None:
        applied.state, applied.at, applied.system = DONE, application.created_at, "revops"
    applied.sla = SlaCheck(PAYMENT_POSTING, received.at, applied.at, now)
    return received, applied


def _loose_payment_steps(payment: Payment, events: _Events, now) -> list[FlowStep]:
    link = [(payment.number, reverse("payment_detail", args=[payment.pk]))]
    received = _done(
        FlowStep("payment_received", "Payment received", links=link), events.of("payment.received", payment)
    )
    if received.at is None:
        received.state, received.at, received.system = DONE, payment.created_at, payment.gateway or "revops"
    applied = FlowStep("payment_applied", "Payment applied", after=received, links=link)
    if payment.status == Payment.Status.REVERSED:
        applied.state, applied.note = NOT_APPLICABLE, "The payment was reversed."
    else:
        applied.note = "Not applied to an invoice yet."
        applied.sla = SlaCheck(PAYMENT_POSTING, received.at, None, now)
    return [received, applied]
