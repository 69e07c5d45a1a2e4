"""Posting issued invoices, voids and payment applications to the fake NetSuite,
exactly once, with rejections going through the exception queue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors import posting as p
from connectors.models import ErpMapping, OutboundPosting
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops import models as m
from revops.actors import Actor
from revops.services.billing import invoice_issue, invoice_void
from revops.services.payments import payment_apply, payment_reverse
from tests import factories as f

pytestmark = pytest.mark.django_db
S = OutboundPosting.Status
SYSTEM = Actor.for_system("revops", "test")


def _issue(customer=None, **kwargs) -> m.Invoice:
    invoice = f.InvoiceFactory(
        status=m.Invoice.Status.DRAFT, customer=customer or f.CustomerFactory(), **kwargs
    )
    return invoice_issue(invoice=invoice, actor=SYSTEM)


def _drain(limit: int = 100) -> None:
    """What the workers do: send every claimable posting until none is left."""
    for _ in range(limit):
        due = list(OutboundPosting.objects.filter(status__in=p.CLAIMABLE).values_list("pk", flat=True))
        if not due:
            return
        for posting_id in due:
            p.posting_send(posting_id)
    raise AssertionError("postings still pending after draining")


def test_it_creates_a_posting_when_an_invoice_is_issued(erp_connector):
    invoice = _issue()
    posting = OutboundPosting.objects.get()
    assert (posting.connector, posting.object_id, posting.action, posting.revision) == (
        erp_connector,
        invoice.pk,
        "create",
        1,
    )
    assert posting.external_id == f"INV-US01-{invoice.number}"
    assert posting.correlation_id == invoice.correlation_id
    assert posting.status == S.PENDING


def test_it_creates_no_posting_for_a_pull_connector_or_another_entity(erp_connector):
    erp_connector.direction = "pull"
    erp_connector.save()
    _issue()
    erp_connector.direction = "push"
    erp_connector.save()
    other = f.LegalEntityFactory(code="DE01", functional_currency="EUR", country="DE")
    _issue(customer=f.CustomerFactory(legal_entity=other, currency="EUR"), currency="EUR")
    assert OutboundPosting.objects.count() == 0


def test_it_posts_an_issued_invoice_with_its_customer(erp_connector, fake_erp):
    invoice = _issue()
    result = p.posting_send(OutboundPosting.objects.get().pk)
    posting = OutboundPosting.objects.get()
    assert result == S.POSTED and posting.status == S.POSTED and posting.attempts == 1
    record = fake_erp.erp.get("invoice", "eid:" + posting.external_id)
    assert record["id"] == posting.erp_id
    assert record["tranId"] == invoice.number
    assert record["subsidiary"] == {"id": "1"} and record["account"] == {"id": "120"}
    customer = fake_erp.erp.get("customer", "eid:CUS-" + invoice.customer.number)
    assert record["entity"] == {"id": customer["id"]}
    assert m.ExternalRef.objects.filter(
        system="netsuite", object_type="customer", external_id=customer["id"]
    ).exists()
    assert posting.request["body"]["externalId"] == posting.external_id


def test_a_duplicate_delivery_of_the_task_changes_nothing(erp_connector, fake_erp):
    _issue()
    posting_id = OutboundPosting.objects.get().pk
    p.posting_send(posting_id)
    assert p.posting_send(posting_id) == "not claimed (posted)"
    assert len(fake_erp.erp.documents("invoice")) == 1
    assert OutboundPosting.objects.get().attempts == 1


def test_it_looks_up_before_posting_again_after_a_dropped_answer(erp_connector, fake_erp):
    invoice = _issue()
    # The ERP commits the invoice, then drops the connection; it would accept a second copy.
    fake_erp.erp.control(
        {"fault": "drop", "count": 1, "match": {"tranId": invoice.number}, "unique_external_ids": False}
    )
    posting = OutboundPosting.objects.get()
    assert p.posting_send(posting.pk) == S.UNCERTAIN
    posting.refresh_from_db()
    assert posting.next_attempt_at is not None and posting.erp_id == ""
    assert len(fake_erp.erp.documents("invoice")) == 1
    _drain()
    posting.refresh_from_db()
    assert posting.status == S.POSTED and posting.attempts == 2
    assert posting.response["found_by_external_id"] == posting.external_id
    [record] = fake_erp.erp.documents("invoice")
    assert posting.erp_id == record["id"]


def test_it_reschedules_a_transient_failure_without_sleeping(erp_connector, fake_erp):
    from django_q.models import Schedule

    fake_erp.erp.control({"fault": "429", "retry_after": 30})
    _issue()
    posting = OutboundPosting.objects.get()
    assert p.posting_send(posting.pk) == S.PENDING
    posting.refresh_from_db()
    assert posting.next_attempt_at >= posting.updated_at + dt.timedelta(seconds=29)
    schedule = Schedule.objects.get(func=p.SEND_TASK)
    assert schedule.args == str(posting.pk)
    fake_erp.erp.control({"fault": "none"})
    _drain()
    assert OutboundPosting.objects.get().status == S.POSTED


def test_it_dead_letters_after_the_attempt_limit(erp_connector, fake_erp, settings):
    settings.REVOPS_SYNC_MAX_ATTEMPTS = 2
    fake_erp.erp.control({"fault": "500"})
    _issue()
    posting = OutboundPosting.objects.get()
    p.posting_send(posting.pk)
    assert p.posting_send(posting.pk) == S.FAILED
    posting.refresh_from_db()
    item = ExceptionItem.objects.get(pk=posting.exception_item_id)
    assert item.code == "DEAD_LETTER" and item.step_key == "netsuite.posting"


def test_a_rejection_is_corrected_and_resubmitted_from_the_queue(erp_connector, fake_erp, analyst):
    ErpMapping.objects.filter(connector=erp_connector).update(tax_codes={"default": "BAD"})
    fake_erp.erp.control(
        {
            "fault": "reject",
            "code": "INVALID_KEY_OR_REF",
            "message": "Invalid taxCode reference key BAD.",
            "path": "item.items.0.taxCode",
            "match": {"item.items.0.taxCode.id": "BAD"},
        }
    )
    invoice = _issue()
    posting = OutboundPosting.objects.get()
    assert p.posting_send(posting.pk) == S.REJECTED
    posting.refresh_from_db()
    item = ExceptionItem.objects.get(pk=posting.exception_item_id)
    assert item.code == "ERP_REJECTED"
    assert "Invalid taxCode reference key BAD." in item.message
    assert item.payload["item"]["items"][0]["taxCode"] == {"id": "BAD"}
    assert item.object_id == invoice.pk
    assert fake_erp.erp.documents("invoice") == []

    exception_resubmit(
        item=item,
        correction={"item.items.0.taxCode.id": "8"},
        actor=Actor.for_user(analyst),
        reason="Tax code 8 is California sales tax",
    )
    posting.refresh_from_db()
    item.refresh_from_db()
    assert posting.status == S.POSTED
    assert item.status == ExceptionItem.Status.RESOLVED
    [record] = fake_erp.erp.documents("invoice")
    assert record["item"]["items"][0]["taxCode"] == {"id": "8"}


def test_a_missing_mapping_setting_is_a_rejection_naming_the_setting(erp_connector, fake_erp):
    ErpMapping.objects.filter(connector=erp_connector).update(ar_account_id="")
    _issue()
    posting = OutboundPosting.objects.get()
    assert p.posting_send(posting.pk) == S.REJECTED
    item = ExceptionItem.objects.get(pk=OutboundPosting.objects.get().exception_item_id)
    assert "AR account id" in item.message
    assert item.error_details[0]["field"] == "ar_account_id"


def test_voiding_a_posted_invoice_posts_a_credit_memo(erp_connector, fake_erp):
    invoice = _issue()
    _drain()
    invoice_void(invoice=invoice, actor=SYSTEM, reason="Billed in error")
    reversal = OutboundPosting.objects.get(action="reverse")
    assert reversal.record_type == "creditMemo" and reversal.revision == 2
    _drain()
    reversal.refresh_from_db()
    invoice_erp_id = OutboundPosting.objects.get(action="create").erp_id
    [memo] = fake_erp.erp.documents("creditMemo")
    assert memo["createdFrom"] == {"id": invoice_erp_id}
    assert memo["apply"]["items"][0]["amount"] == float(invoice.total)
    assert reversal.status == S.POSTED and reversal.erp_id == memo["id"]


def test_voiding_an_invoice_never_posted_cancels_its_posting(erp_connector, fake_erp):
    invoice = _issue()
    invoice_void(invoice=invoice, actor=SYSTEM, reason="Billed in error")
    assert list(OutboundPosting.objects.values_list("action", "status")) == [("create", S.CANCELLED)]
    _drain()
    assert fake_erp.erp.documents("invoice") == []


def test_a_payment_application_and_its_reversal_are_posted(erp_connector, fake_erp):
    invoice = _issue()
    payment = f.PaymentFactory(customer=invoice.customer, amount=Decimal("108.00"))
    payment_apply(payment=payment, invoice=invoice, actor=SYSTEM)
    _drain()
    [cash] = fake_erp.erp.documents("customerPayment")
    invoice_erp_id = OutboundPosting.objects.get(record_type="invoice", object_id=invoice.pk).erp_id
    assert cash["apply"]["items"][0]["doc"] == {"id": invoice_erp_id}
    assert cash["payment"] == 108.0
    payment_reverse(payment=payment, actor=SYSTEM, reason="Bounced")
    _drain()
    [journal] = fake_erp.erp.documents("journalEntry")
    assert journal["externalId"] == cash["externalId"] + "-REV"
    assert [line.get("debit", 0) for line in journal["line"]["items"]] == [108.0, 0]
    assert set(OutboundPosting.objects.values_list("status", flat=True)) == {S.POSTED}


def test_a_posting_whose_worker_died_after_sending_is_found_not_posted_again(
    erp_connector, fake_erp, settings
):
    from unittest import mock

    from django.utils import timezone

    fake_erp.erp.control({"unique_external_ids": False})
    _issue()
    posting = OutboundPosting.objects.get()
    p.posting_send(posting.pk)
    # As if the worker had died after the ERP committed, before recording the answer.
    OutboundPosting.objects.filter(pk=posting.pk).update(
        status=S.POSTING, erp_id="", claimed_at=timezone.now() - dt.timedelta(seconds=settings.Q_TIMEOUT + 1)
    )
    with mock.patch.object(p, "async_task") as async_task:
        assert p.resume_stale_postings() == 1
    async_task.assert_called_once_with(p.SEND_TASK, posting.pk, task_name=f"post to ERP {posting.pk}")
    assert p.posting_send(posting.pk) == S.POSTED
    posting.refresh_from_db()
    assert posting.attempts == 2 and posting.response["found_by_external_id"] == posting.external_id
    assert len(fake_erp.erp.documents("invoice")) == 1


def test_a_posting_being_sent_is_not_claimed_twice(erp_connector):
    from django.utils import timezone

    _issue()
    posting = OutboundPosting.objects.get()
    OutboundPosting.objects.filter(pk=posting.pk).update(status=S.POSTING, claimed_at=timezone.now())
    assert p.posting_send(posting.pk) == "not claimed (posting)"
    assert OutboundPosting.objects.get().attempts == 0


def test_a_resubmission_that_meets_a_transient_fault_resolves_its_item_when_posted(
    erp_connector, fake_erp, analyst, django_capture_on_commit_callbacks
):
    from unittest import mock

    ErpMapping.objects.filter(connector=erp_connector).update(default_item_id="")
    _issue()
    posting = OutboundPosting.objects.get()
    assert p.posting_send(posting.pk) == S.REJECTED
    item = ExceptionItem.objects.get(pk=OutboundPosting.objects.get().exception_item_id)
    ErpMapping.objects.filter(connector=erp_connector).update(default_item_id="300")
    fake_erp.erp.control({"fault": "500", "count": 1})
    with mock.patch.object(p, "async_task"):
        exception_resubmit(
            item=item, correction=None, actor=Actor.for_user(analyst), reason="Default item set"
        )
    item.refresh_from_db()
    assert item.status == ExceptionItem.Status.RESUBMITTED
    assert OutboundPosting.objects.get().status == S.PENDING
    _drain()
    item.refresh_from_db()
    assert OutboundPosting.objects.get().status == S.POSTED
    assert item.status == ExceptionItem.Status.RESOLVED
    assert len(fake_erp.erp.documents("invoice")) == 1


def test_a_top_up_of_a_payment_application_posts_only_the_added_amount(erp_connector, fake_erp):
    invoice = _issue()
    payment = f.PaymentFactory(customer=invoice.customer, amount=Decimal("108.00"))
    payment_apply(payment=payment, invoice=invoice, actor=SYSTEM, amount="50.00")
    payment_apply(payment=payment, invoice=invoice, actor=SYSTEM, amount="58.00")
    _drain()
    payments = sorted(fake_erp.erp.documents("customerPayment"), key=lambda d: d["externalId"])
    assert [d["payment"] for d in payments] == [108.0 - 58.0, 58.0]
    assert len({d["externalId"] for d in payments}) == 2
    assert list(
        OutboundPosting.objects.filter(record_type="customerPayment")
        .order_by("revision")
        .values_list("revision")
    ) == [(1,), (2,)]


def test_checking_a_correction_posts_nothing(erp_connector, fake_erp, analyst):
    from exceptions_queue.services import exception_check_correction

    fake_erp.erp.control({"fault": "reject", "code": "USER_ERROR", "message": "Period closed", "count": 1})
    _issue()
    p.posting_send(OutboundPosting.objects.get().pk)
    item = ExceptionItem.objects.get(pk=OutboundPosting.objects.get().exception_item_id)
    errors = exception_check_correction(
        item=item, correction={"tranDate": "2026-04-01"}, actor=Actor.for_user(analyst)
    )
    assert errors == []
    assert fake_erp.erp.documents("invoice") == []
    assert OutboundPosting.objects.get().status == S.REJECTED
