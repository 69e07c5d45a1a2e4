"""Late usage arriving through a connector (a CSV usage import), end to end:
LATE_USAGE with the period, the closing invoice, quantity and amount, its two
one-click resolutions through exception_resubmit, and idempotent re-delivery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.files import services
from connectors.models import Connector, InboundRecord
from connectors.resubmit import split_correction
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops.actors import Actor
from revops.models import BusinessEvent, CreditNote, Invoice, UsageRecord
from revops.services import payments
from tests.connectors.files.conftest import USAGE_COLUMNS, csv_text
from tests.revops.usage_factories import MARCH, SETUP, billed_contract

pytestmark = pytest.mark.django_db

HEADER = "Event,Contract,SKU,Units,At"
LATE = csv_text(HEADER, "evt-late,K-USE,API-CALLS,500,2026-03-28T09:00:00Z")


@pytest.fixture
def billed():
    return billed_contract()


@pytest.fixture
def run_import(billed):
    connector = Connector.objects.create(
        name="metering-files", kind="file", legal_entity=billed.customer.legal_entity
    )
    mapping = services.mapping_save(
        connector=connector,
        object_type="usage",
        name="usage",
        columns=USAGE_COLUMNS,
        actor=SETUP,
        reason="test mapping",
    )

    def run(text: str):
        checked = services.import_check(file_name="usage.csv", content=text.encode(), mapping=mapping)
        upload = services.import_start(
            connector=connector, mapping=mapping, checked=checked, requested_by="tests"
        )
        return services.import_run(upload.pk)

    return run


def _resubmit(item, key, analyst, reason):
    option = next(o for o in item.suggested_correction["options"] if o["key"] == key)
    return exception_resubmit(
        item=item, correction=option["correction"], actor=Actor.for_user(analyst), reason=reason
    )


def test_it_records_usage_on_time_and_opens_late_usage_for_a_closed_period(run_import, billed):
    upload = run_import(
        csv_text(
            HEADER,
            "evt-late,K-USE,API-CALLS,500,2026-03-28T09:00:00Z",
            "evt-april,K-USE,API-CALLS,700,2026-04-02T09:00:00Z",
            "evt-storage,K-USE,STORAGE,4,2026-04-02",
        )
    )
    assert (upload.run.created, upload.run.business_errors) == (2, 1)
    assert sorted(UsageRecord.objects.values_list("source_event_id", flat=True)) == [
        "evt-april",
        "evt-storage",
    ]
    item = ExceptionItem.objects.get()
    assert item.code == "LATE_USAGE" and item.step_key == "file.usage" and item.external_id == "evt-late"
    assert item.object_id == billed.contract.pk and item.customer == billed.customer
    assert item.message == (
        "Usage evt-late: 500 API-CALLS on K-USE for March 2026 arrived after invoice INV-APR closed that "
        "period (it billed this line for the period on 2026-04-01); it would bill 5.00 USD."
    )
    rows = {row["label"]: row["actual"] for row in item.error_details}
    assert rows == {
        "Usage period": "2026-03-01 – 2026-03-31",
        "Closed by invoice": "INV-APR (open, issued 2026-04-01)",
        "Quantity": "500",
        "Amount it would bill": "5.00 USD",
    }
    options = item.suggested_correction["options"]
    assert [(o["label"], o["correction"]) for o in options] == [
        ("Bill in the next period as an adjustment line", {"_late_usage": "next_period"}),
        ("Credit the invoice and re-bill the period", {"_late_usage": "credit_rebill"}),
    ]
    assert "2026-05-01 – 2026-05-31" in options[0]["description"]
    assert InboundRecord.objects.get(external_id="evt-late").outcome == "business_error"


def test_it_bills_late_usage_in_the_next_period_when_the_analyst_chooses_it(run_import, billed, analyst):
    run_import(LATE)
    item = ExceptionItem.objects.get()
    item = _resubmit(item, "next_period", analyst, "Metering feed was two days late")
    assert item.status == "resolved" and item.correction == {"_late_usage": "next_period"}
    usage = UsageRecord.objects.get(source_event_id="evt-late")
    assert (usage.source, usage.quantity, usage.late_treatment) == ("file", Decimal("500"), "next_period")
    assert usage.closed_by_invoice == billed.invoice and usage.contract_line == billed.api
    draft = usage.billed_on.invoice
    assert draft.status == "draft" and draft.contract == billed.contract and draft.total == Decimal("5.50")
    assert (usage.billed_on.period_start, usage.billed_on.period_end) == MARCH
    reason = usage.history.get().history_change_reason
    assert "Metering feed was two days late" in reason and reason.startswith("Resubmission of exception")
    assert usage.history.get().history_user == analyst
    event = BusinessEvent.objects.get(type="usage.late_billed_next_period")
    assert event.correlation_id == billed.contract.correlation_id
    assert event.payload["reason"].endswith("Metering feed was two days late")
    assert not CreditNote.objects.exists()


def test_it_credits_and_rebills_when_the_analyst_chooses_it(run_import, billed, analyst):
    run_import(LATE)
    item = _resubmit(
        ExceptionItem.objects.get(), "credit_rebill", analyst, "Customer wants one March invoice"
    )
    assert item.status == "resolved"
    usage = UsageRecord.objects.get(source_event_id="evt-late")
    assert usage.late_treatment == "credit_rebill" and usage.closed_by_invoice == billed.invoice
    note = CreditNote.objects.get(invoice=billed.invoice)
    assert note.total == Decimal("11.00") and "Customer wants one March invoice" in note.reason
    rebill = usage.billed_on.invoice
    assert rebill.number == "INV-APR-R1" and rebill.status == "open" and rebill.total == Decimal("16.50")
    assert (rebill.period_start, rebill.period_end) == MARCH
    billed.invoice.refresh_from_db()
    assert billed.invoice.amount_due == Decimal("0.00")
    assert (
        BusinessEvent.objects.filter(
            type__in=["credit_note.issued", "invoice.issued", "usage.late_rebilled"],
            correlation_id=billed.contract.correlation_id,
        ).count()
        == 4
    )  # INV-APR issued, the credit note, the re-bill issued, the late usage


def test_it_reopens_the_item_when_the_invoice_to_credit_is_paid(run_import, billed, analyst):
    run_import(LATE)
    payment = payments.payment_receive(
        number="PAY-1",
        legal_entity=billed.invoice.legal_entity,
        customer=billed.customer,
        amount="11.00",
        currency="USD",
        received_date=dt.date(2026, 4, 10),
        method="card",
        actor=SETUP,
    )
    payments.payment_apply(payment=payment, invoice=billed.invoice, actor=SETUP)
    item = _resubmit(ExceptionItem.objects.get(), "credit_rebill", analyst, "Try a credit")
    assert item.status != "resolved" and "next period instead" in item.message
    assert not UsageRecord.objects.exists() and not CreditNote.objects.exists()
    item = _resubmit(item, "next_period", analyst, "Then next period")
    assert item.status == "resolved" and UsageRecord.objects.get().late_treatment == "next_period"


def test_it_keeps_one_item_and_no_usage_when_a_late_event_is_delivered_again(run_import, billed, analyst):
    run_import(LATE)
    again = run_import(LATE)
    assert again.run.business_errors == 1
    item = ExceptionItem.objects.get()
    assert item.occurrences == 2 and not UsageRecord.objects.exists()

    _resubmit(item, "next_period", analyst, "Bill it next month")
    third = run_import(LATE)
    assert third.run.business_errors == 0 and third.run.unchanged == 1
    assert UsageRecord.objects.count() == 1 and Invoice.objects.filter(status="draft").count() == 1
    assert Invoice.objects.get(status="draft").lines.count() == 1


def test_it_records_an_on_time_event_once_however_often_it_is_sent(run_import, billed):
    text = csv_text(HEADER, "evt-1,K-USE,API-CALLS,700,2026-04-02T09:00:00Z")
    run_import(text)
    again = run_import(text.replace(",700,", ",900,"))
    assert (again.run.created, again.run.unchanged) == (0, 1)
    assert list(UsageRecord.objects.values_list("quantity", flat=True)) == [Decimal("700")]
    assert not ExceptionItem.objects.exists()


def test_it_accepts_the_late_usage_directives_and_refuses_others():
    assert split_correction({"_late_usage": "credit_rebill"}) == ({}, {"_late_usage": "credit_rebill"})
    with pytest.raises(ValueError, match="_late_usage must be one of next_period, credit_rebill"):
        split_correction({"_late_usage": "write_off"})


def test_it_offers_both_resolutions_on_the_item_page_and_bills_with_one_click(
    client, run_import, billed, analyst
):
    from django.urls import reverse

    run_import(LATE)
    item = ExceptionItem.objects.get()
    client.force_login(analyst)
    html = client.get(reverse("exceptions_queue:detail", args=[item.pk])).content.decode()
    assert 'name="option" value="next_period"' in html and 'name="option" value="credit_rebill"' in html
    assert "Bill in the next period as an adjustment line" in html and "INV-APR" in html
    response = client.post(
        reverse("exceptions_queue:resubmit", args=[item.pk]),
        {"option": "credit_rebill", "reason": "Re-bill March"},
    )
    assert response.status_code in (200, 302)
    item.refresh_from_db()
    assert item.status == "resolved" and item.correction == {"_late_usage": "credit_rebill"}
    assert UsageRecord.objects.get().billed_on.invoice.number == "INV-APR-R1"
