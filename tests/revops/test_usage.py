"""Usage through the services: the billing cutoff derived from issued invoices,
and late usage billed in the next period or by credit and re-bill."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import BusinessEvent, CreditNote, ExternalRef, Invoice, UsageRecord
from revops.selectors.usage import usage_period_closure
from revops.services import billing, contracts, payments
from revops.services.usage import LateUsage, usage_record
from tests.revops.usage_factories import APRIL, MARCH, SETUP, at, billed_contract

pytestmark = pytest.mark.django_db

METERING = Actor.for_system("metering", "metering feed")


@pytest.fixture
def billed():
    return billed_contract()


def _record(line, quantity="500", day=dt.date(2026, 3, 20), event="evt-1", **kwargs):
    return usage_record(
        contract_line=line,
        quantity=quantity,
        usage_at=at(day),
        source="metering",
        source_event_id=event,
        actor=METERING,
        **kwargs,
    )


def _closure(line, period):
    return usage_period_closure(contract_line=line, period_start=period[0], period_end=period[1])


def test_it_closes_a_period_per_line_from_the_invoice_that_billed_it(billed):
    closure = _closure(billed.api, MARCH)
    assert closure.invoice == billed.invoice
    assert [line.description for line in closure.lines] == ["API calls, usage in March 2026"]
    assert "billed this line" in closure.why
    # April's usage is billed in arrears by May's invoice: still open.
    assert _closure(billed.api, APRIL) is None


def test_it_closes_a_period_for_a_line_the_invoice_did_not_bill_once_issued_after_the_period(billed):
    closure = _closure(billed.storage, MARCH)
    assert closure.invoice == billed.invoice and closure.lines == []
    assert "after the period ended" in closure.why
    assert _closure(billed.storage, APRIL) is None


def test_it_leaves_periods_open_while_the_invoice_is_a_draft_or_after_it_is_voided(billed):
    billing.invoice_void(invoice=billed.invoice, actor=SETUP, reason="Billed twice")
    assert _closure(billed.api, MARCH) is None and _closure(billed.storage, MARCH) is None
    draft = billing.invoice_create(
        number="INV-DRAFT",
        customer=billed.customer,
        contract=billed.contract,
        issue_date=APRIL[0],
        lines=[billing.InvoiceLineSpec("API", 1, "1", contract_line=billed.api, period_start=MARCH[0])],
        issue=False,
        actor=SETUP,
    )
    assert draft.status == "draft" and _closure(billed.api, MARCH) is None


def test_it_records_usage_on_time_and_refuses_late_usage_without_a_treatment(billed):
    usage, created = _record(billed.api, day=dt.date(2026, 4, 3), event="evt-april")
    assert created and (usage.period_start, usage.period_end) == APRIL
    assert usage.late_treatment == "" and usage.closed_by_invoice is None

    with pytest.raises(LateUsage) as excinfo:
        _record(billed.api, quantity="500", event="evt-march")
    late = excinfo.value
    assert late.closure.invoice == billed.invoice
    assert (late.quantity, late.unit_amount, late.amount, late.currency) == (
        Decimal("500"),
        Decimal("0.01"),
        Decimal("5.00"),
        "USD",
    )
    assert "closed by invoice INV-APR" in late.messages[0]
    assert not UsageRecord.objects.filter(source_event_id="evt-march").exists()


def test_it_returns_an_event_already_recorded_without_checking_the_cutoff_again(billed):
    usage, _ = _record(billed.api, day=dt.date(2026, 4, 3), event="evt-1")
    # May's invoice now closes April; the same event again is still just recorded once.
    billing.invoice_create(
        number="INV-MAY",
        customer=billed.customer,
        contract=billed.contract,
        issue_date=dt.date(2026, 5, 1),
        lines=[billing.InvoiceLineSpec("Fee", 1, "1")],
        actor=SETUP,
    )
    again, created = _record(billed.api, day=dt.date(2026, 4, 3), event="evt-1", quantity="900")
    assert again == usage and not created and again.quantity == Decimal("500")
    assert UsageRecord.objects.count() == 1


def test_it_bills_late_usage_as_an_adjustment_on_a_new_draft_for_the_next_period(billed):
    usage, created = _record(billed.api, quantity="500", late_treatment="next_period", reason="Late feed")
    assert created
    assert usage.late_treatment == "next_period" and usage.closed_by_invoice == billed.invoice
    draft = usage.billed_on.invoice
    assert draft.number == "K-USE-ADJ-202605" and draft.status == "draft"
    assert (draft.period_start, draft.period_end) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert draft.contract == billed.contract and draft.issue_date == max(
        dt.date(2026, 5, 1), timezone.localdate()
    )
    line = usage.billed_on
    assert (line.quantity, line.unit_amount, line.amount, line.tax_rate, line.tax_amount) == (
        Decimal("500"),
        Decimal("0.01"),
        Decimal("5.00"),
        Decimal("10"),
        Decimal("0.50"),
    )
    assert (line.contract_line, line.period_start, line.period_end) == (billed.api, *MARCH)
    assert "late usage adjustment" in line.description and "INV-APR" in line.description
    assert (draft.subtotal, draft.tax_total, draft.total, draft.amount_due) == (
        Decimal("5.00"),
        Decimal("0.50"),
        Decimal("5.50"),
        Decimal("5.50"),
    )
    # The closed invoice is untouched.
    billed.invoice.refresh_from_db()
    assert billed.invoice.total == Decimal("11.00") and billed.invoice.amount_credited == 0
    event = BusinessEvent.objects.get(type="usage.late_billed_next_period")
    assert event.correlation_id == billed.contract.correlation_id and event.subject_id == billed.contract.pk
    assert (
        event.payload["billed_on_invoice"] == draft.number and event.payload["closed_by_invoice"] == "INV-APR"
    )
    history = usage.history.get()
    assert "late usage" in history.history_change_reason and history.history_change_reason.startswith(
        "Late feed"
    )


def test_it_collects_further_late_usage_on_the_same_draft(billed):
    first, _ = _record(billed.api, quantity="500", late_treatment="next_period")
    second, _ = _record(billed.storage, quantity="3", event="evt-2", late_treatment="next_period")
    draft = first.billed_on.invoice
    assert second.billed_on.invoice == draft and second.billed_on.line_number == 2
    draft.refresh_from_db()
    assert (draft.subtotal, draft.tax_total, draft.total) == (
        Decimal("11.00"),
        Decimal("1.10"),
        Decimal("12.10"),
    )
    assert Invoice.objects.filter(status="draft").count() == 1


def test_it_adds_the_adjustment_to_the_contracts_own_next_draft_but_not_to_another_systems(billed):
    def draft(number):
        return billing.invoice_create(
            number=number,
            customer=billed.customer,
            contract=billed.contract,
            issue_date=dt.date(2026, 5, 1),
            period_start=dt.date(2026, 5, 1),
            period_end=dt.date(2026, 5, 31),
            lines=[billing.InvoiceLineSpec("Platform fee", 1, "100.00")],
            issue=False,
            actor=SETUP,
        )

    stripe_draft = draft("in_stripe_draft")
    ExternalRef.objects.create(
        system="stripe", object_type="invoice", external_id="in_1", target=stripe_draft
    )
    ours = draft("INV-MAY")
    usage, _ = _record(billed.api, quantity="500", late_treatment="next_period")
    assert usage.billed_on.invoice == ours and usage.billed_on.line_number == 2
    ours.refresh_from_db()
    assert (ours.subtotal, ours.total) == (Decimal("105.00"), Decimal("105.50"))
    assert stripe_draft.lines.count() == 1


def test_it_credits_the_usage_line_and_rebills_the_period_with_the_late_usage(billed):
    usage, created = _record(billed.api, quantity="500", late_treatment="credit_rebill", reason="Meter lag")
    assert created and usage.late_treatment == "credit_rebill" and usage.closed_by_invoice == billed.invoice
    note = CreditNote.objects.get()
    assert note.invoice == billed.invoice and note.number == "CN-INV-APR-1"
    assert (note.subtotal, note.tax_total, note.total) == (
        Decimal("10.00"),
        Decimal("1.00"),
        Decimal("11.00"),
    )
    assert note.lines.get().invoice_line == billed.invoice.lines.get()
    billed.invoice.refresh_from_db()
    assert (billed.invoice.amount_credited, billed.invoice.amount_due, billed.invoice.status) == (
        Decimal("11.00"),
        Decimal("0.00"),
        "paid",
    )
    rebill = usage.billed_on.invoice
    assert rebill.number == "INV-APR-R1" and rebill.status == "open"
    assert (rebill.period_start, rebill.period_end, rebill.issue_date) == (*MARCH, timezone.localdate())
    assert [
        (line.quantity, line.amount, line.tax_amount) for line in rebill.lines.order_by("line_number")
    ] == [
        (Decimal("1000"), Decimal("10.00"), Decimal("1.00")),
        (Decimal("500"), Decimal("5.00"), Decimal("0.50")),
    ]
    assert usage.billed_on.line_number == 2 and rebill.total == Decimal("16.50")
    assert rebill.correlation_id == billed.contract.correlation_id
    event = BusinessEvent.objects.get(type="usage.late_rebilled")
    assert event.correlation_id == billed.contract.correlation_id
    assert (
        event.payload["credit_note"] == "CN-INV-APR-1" and event.payload["billed_on_invoice"] == "INV-APR-R1"
    )
    assert BusinessEvent.objects.filter(type="credit_note.issued", subject_id=note.pk).exists()
    assert note.history.get().history_change_reason.startswith("Meter lag")


def test_it_rebills_from_the_rebill_when_more_usage_arrives_late(billed):
    first, _ = _record(billed.api, quantity="500", late_treatment="credit_rebill")
    assert _closure(billed.api, MARCH).invoice == first.billed_on.invoice
    second, _ = _record(billed.api, quantity="100", event="evt-2", late_treatment="credit_rebill")
    assert second.closed_by_invoice == first.billed_on.invoice
    assert second.billed_on.invoice.number == "INV-APR-R2"
    assert second.billed_on.invoice.total == Decimal("17.60")
    assert CreditNote.objects.get(invoice=first.billed_on.invoice).total == Decimal("16.50")


def test_it_rebills_without_a_credit_when_the_invoice_billed_nothing_for_the_line(billed):
    usage, _ = _record(billed.storage, quantity="3", late_treatment="credit_rebill")
    assert not CreditNote.objects.exists()
    assert usage.billed_on.invoice.total == Decimal("6.60") and usage.billed_on.invoice.lines.count() == 1


def test_it_refuses_to_credit_a_paid_invoice_and_writes_nothing(billed):
    payment = payments.payment_receive(
        number="PAY-1",
        legal_entity=billed.invoice.legal_entity,
        customer=billed.customer,
        amount=Decimal("11.00"),
        currency="USD",
        received_date=dt.date(2026, 4, 10),
        method="card",
        actor=SETUP,
        reason="paid",
    )
    payments.payment_apply(payment=payment, invoice=billed.invoice, actor=SETUP, reason="paid")
    with pytest.raises(DomainValidationError) as excinfo:
        _record(billed.api, quantity="500", late_treatment="credit_rebill")
    assert "bill the late usage in the next period instead" in excinfo.value.message_dict["late_treatment"][0]
    assert not UsageRecord.objects.exists() and not CreditNote.objects.exists()
    assert Invoice.objects.count() == 1


def test_it_records_usage_normally_when_a_treatment_is_given_but_the_period_is_open(billed):
    usage, created = _record(billed.api, day=dt.date(2026, 4, 3), late_treatment="next_period")
    assert created and usage.late_treatment == "" and usage.billed_on is None
    assert Invoice.objects.count() == 1


def test_it_refuses_an_unknown_treatment(billed):
    with pytest.raises(DomainValidationError):
        _record(billed.api, late_treatment="forget_it")


def test_it_keeps_the_contracts_usage_record_entry_point(billed):
    with pytest.raises(LateUsage):
        contracts.usage_record(
            contract_line=billed.api,
            quantity="1",
            usage_at=at(dt.date(2026, 3, 2)),
            source="metering",
            source_event_id="evt-old-path",
            actor=METERING,
        )
