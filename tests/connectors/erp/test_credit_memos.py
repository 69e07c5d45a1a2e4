"""Credit notes issued on their own are posted to the fake NetSuite as credit
memos applied to their invoice, exactly once, rejections going to the queue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors import posting as p
from connectors.erp.credit_memos import credit_memo_external_id
from connectors.models import Connector, OutboundPosting
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops import models as m
from revops.actors import Actor
from revops.services.billing import CreditLineSpec, InvoiceLineSpec, credit_note_issue, invoice_create
from tests import factories as f

pytestmark = pytest.mark.django_db
S = OutboundPosting.Status
SYSTEM = Actor.for_system("revops", "test")


def _invoice(customer=None) -> m.Invoice:
    customer = customer or f.CustomerFactory()
    return invoice_create(
        number="INV-CM-1",
        customer=customer,
        issue_date=dt.date(2026, 3, 1),
        lines=[
            InvoiceLineSpec(
                "Seats", quantity="10", unit_amount="10.00", tax_rate="7.25", tax_jurisdiction="US-CA"
            )
        ],
        actor=SYSTEM,
    )


def _credit(invoice: m.Invoice, amount: str = "20.00", *, number: str = "CN-1") -> m.CreditNote:
    line = invoice.lines.get()
    return credit_note_issue(
        invoice=invoice,
        number=number,
        issue_date=dt.date(2026, 3, 10),
        lines=[CreditLineSpec("Two seats returned", amount, invoice_line=line)],
        actor=SYSTEM,
        reason="Two seats returned",
    )


def _drain(limit: int = 50) -> None:
    for _ in range(limit):
        due = list(OutboundPosting.objects.filter(status__in=p.CLAIMABLE).values_list("pk", flat=True))
        if not due:
            return
        for posting_id in due:
            p.posting_send(posting_id)
    raise AssertionError("postings still pending after draining")


def test_it_posts_a_credit_note_as_a_credit_memo_applied_to_its_invoice(erp_connector, fake_erp):
    invoice = _invoice()
    _drain()
    note = _credit(invoice)
    posting = OutboundPosting.objects.get(record_type="creditMemo")
    assert (posting.action, posting.revision, posting.external_id) == ("create", 1, "CM-US01-CN-1")
    assert posting.correlation_id == invoice.correlation_id
    _drain()
    posting.refresh_from_db()
    invoice_erp_id = OutboundPosting.objects.get(record_type="invoice").erp_id
    [memo] = fake_erp.erp.documents("creditMemo")
    assert posting.status == S.POSTED and posting.erp_id == memo["id"]
    assert memo["tranId"] == "CN-1" and memo["externalId"] == credit_memo_external_id(note)
    assert memo["createdFrom"] == {"id": invoice_erp_id}
    assert memo["apply"]["items"] == [{"doc": {"id": invoice_erp_id}, "apply": True, "amount": 21.45}]
    [line] = memo["item"]["items"]
    assert (line["amount"], line["tax1Amt"], line["taxCode"]) == (20.0, 1.45, {"id": "8"})
    assert line["item"] == {"id": "300"}  # a line without a product takes the default item


def test_a_credit_memo_waits_for_its_invoice_to_be_posted(erp_connector, fake_erp):
    invoice = _invoice()
    _credit(invoice)
    memo_posting = OutboundPosting.objects.get(record_type="creditMemo")
    assert p.posting_send(memo_posting.pk) == S.PENDING
    memo_posting.refresh_from_db()
    assert "Invoice INV-CM-1 is not posted" in memo_posting.last_error
    assert fake_erp.erp.documents("creditMemo") == []
    _drain()
    assert len(fake_erp.erp.documents("creditMemo")) == 1
    assert set(OutboundPosting.objects.values_list("status", flat=True)) == {S.POSTED}


def test_a_credit_memo_posted_before_a_lost_answer_is_found_not_posted_again(erp_connector, fake_erp):
    fake_erp.erp.control({"unique_external_ids": False})
    invoice = _invoice()
    _drain()
    _credit(invoice)
    posting = OutboundPosting.objects.get(record_type="creditMemo")
    # The ERP commits the memo but the connection drops before its answer.
    fake_erp.erp.control({"fault": "drop", "count": 1})
    assert p.posting_send(posting.pk) == S.UNCERTAIN
    assert p.posting_send(posting.pk) == S.POSTED
    posting.refresh_from_db()
    assert posting.response["found_by_external_id"] == "CM-US01-CN-1"
    assert len(fake_erp.erp.documents("creditMemo")) == 1


def test_a_duplicate_credit_note_event_posts_nothing_twice(erp_connector, fake_erp):
    from connectors.erp.credit_memos import post_credit_note

    invoice = _invoice()
    _drain()
    note = _credit(invoice)
    post_credit_note(erp_connector, note)
    assert OutboundPosting.objects.filter(record_type="creditMemo").count() == 1


def test_a_credit_note_of_an_invoice_never_meant_for_the_erp_is_not_posted(erp_connector, fake_erp):
    erp_connector.enabled = False
    erp_connector.save()
    invoice = _invoice()
    erp_connector.enabled = True
    erp_connector.save()
    _credit(invoice)
    assert not OutboundPosting.objects.exists()


def test_a_credit_note_in_another_entity_or_for_a_pull_connector_is_not_posted(erp_connector):
    Connector.objects.filter(pk=erp_connector.pk).update(direction="pull")
    _credit(_invoice())
    assert not OutboundPosting.objects.exists()


def test_a_rejected_credit_memo_is_corrected_and_resubmitted_from_the_queue(erp_connector, fake_erp, analyst):
    invoice = _invoice()
    _drain()
    note = _credit(invoice, "10.00")
    fake_erp.erp.control(
        {
            "fault": "reject",
            "code": "USER_ERROR",
            "message": "The accounting period of 2026-03-10 is closed.",
            "path": "tranDate",
            "match": {"tranDate": "2026-03-10"},
        }
    )
    posting = OutboundPosting.objects.get(record_type="creditMemo")
    assert p.posting_send(posting.pk) == S.REJECTED
    posting.refresh_from_db()
    item = ExceptionItem.objects.get(pk=posting.exception_item_id)
    assert item.code == "ERP_REJECTED" and item.object_id == note.pk
    assert item.correlation_id == invoice.correlation_id
    assert "accounting period" in item.message
    assert item.payload["apply"]["items"][0]["amount"] == 10.73
    exception_resubmit(
        item=item,
        correction={"tranDate": "2026-04-01"},
        actor=Actor.for_user(analyst),
        reason="March is closed; booked in April",
    )
    posting.refresh_from_db()
    item.refresh_from_db()
    assert posting.status == S.POSTED and item.status == ExceptionItem.Status.RESOLVED
    [memo] = fake_erp.erp.documents("creditMemo")
    assert memo["tranDate"] == "2026-04-01"
    assert Decimal(str(memo["apply"]["items"][0]["amount"])) == note.total
