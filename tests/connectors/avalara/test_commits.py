"""Issued invoices committed to the fake AvaTax, adjusted by their credit notes
and voided with them, exactly once; refusals and outages through the queue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.avalara import commits as c
from connectors.models import Connector, OutboundPosting
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops import models as m
from revops.actors import Actor
from revops.services.billing import (
    CreditLineSpec,
    InvoiceLineSpec,
    credit_note_issue,
    invoice_create,
    invoice_void,
)
from tests import factories as f
from tests.connectors.avalara.fake_avatax import ACCOUNT_ID, LICENSE_KEY, fixture

pytestmark = pytest.mark.django_db
S = OutboundPosting.Status
SYSTEM = Actor.for_system("revops", "test")
IRVINE = {"address_line1": "123 Main Street", "city": "Irvine", "region": "CA", "postal_code": "92615"}


@pytest.fixture
def avalara(avatax):
    return Connector.objects.create(
        name="avatax-us",
        kind="avalara",
        legal_entity=f.LegalEntityFactory(),
        base_url=avatax.base_url,
        credentials={"account_id": ACCOUNT_ID, "license_key": LICENSE_KEY},
    )


def _invoice(connector, *, number="INV-T-1", **address) -> m.Invoice:
    customer = f.CustomerFactory(legal_entity=connector.legal_entity, country="US", **(address or IRVINE))
    return invoice_create(
        number=number,
        customer=customer,
        issue_date=dt.date(2026, 3, 1),
        lines=[InvoiceLineSpec("Yarn", quantity="1", unit_amount="100.00", tax_rate="7.75")],
        actor=SYSTEM,
    )


def _credit(invoice: m.Invoice, amount="10.00", number="CN-T-1") -> m.CreditNote:
    return credit_note_issue(
        invoice=invoice,
        number=number,
        issue_date=dt.date(2026, 3, 5),
        lines=[CreditLineSpec("Price dropped before shipping", amount, invoice_line=invoice.lines.get())],
        actor=SYSTEM,
        reason="Price adjusted",
    )


def _drain(limit: int = 30) -> None:
    for _ in range(limit):
        due = list(
            OutboundPosting.objects.filter(status__in=(S.PENDING, S.UNCERTAIN)).values_list("pk", flat=True)
        )
        if not due:
            return
        for posting_id in due:
            c.commit_send(posting_id)
    raise AssertionError("steps still pending after draining")


def test_it_sends_the_flow_correlation_id_to_the_tax_engine(avalara, avatax):
    invoice = _invoice(avalara)
    avatax.requests.clear()
    _drain()
    creates = [r for r in avatax.requests if r["path"].startswith("/api/v2/transactions/create")]
    assert creates and {r["headers"].get("X-Correlation-ID") for r in creates} == {
        str(invoice.correlation_id)
    }


def test_it_commits_an_issued_invoice_as_a_sales_invoice(avalara, avatax):
    invoice = _invoice(avalara)
    step = OutboundPosting.objects.get()
    assert (step.connector, step.record_type, step.revision) == (avalara, c.COMMIT, 1)
    assert step.external_id == "revops-US01-INV-T-1" and step.correlation_id == invoice.correlation_id
    _drain()
    step.refresh_from_db()
    document = avatax.document("revops-US01-INV-T-1")
    assert document["status"] == "Committed" and document["type"] == "SalesInvoice"
    assert document["totalTax"] == Decimal("7.75") and document["version"] == 1
    assert step.status == S.POSTED and step.erp_id == str(document["id"])
    [create] = [r for r in avatax.requests if r["path"] == "/api/v2/transactions/create"]
    assert create["json"]["commit"] is True and create["json"]["code"] == step.external_id


def test_a_credit_note_adjusts_the_committed_transaction(avalara, avatax):
    invoice = _invoice(avalara)
    _drain()
    _credit(invoice)
    adjust = OutboundPosting.objects.get(record_type=c.ADJUST)
    assert adjust.revision == 2
    _drain()
    document = avatax.document("revops-US01-INV-T-1")
    shape = fixture("adjust_transaction_response.json")
    assert document["version"] == 2 and document["adjustmentReason"] == shape["adjustmentReason"]
    assert document["adjustmentDescription"] == "Credited by CN-T-1"
    assert [line["lineAmount"] for line in document["lines"]] == [Decimal("100"), Decimal("-10")]
    # Each line is taxed per jurisdiction and rounded half up: 7.75 on the sale, -0.78 on the credit.
    assert document["totalTax"] == Decimal("6.97")
    [request] = [r for r in avatax.requests if r["path"].endswith("/adjust")]
    assert request["json"]["newTransaction"]["lines"][1]["number"] == "CN-T-1-1"


def test_voiding_an_invoice_voids_its_transaction(avalara, avatax):
    invoice = _invoice(avalara)
    _drain()
    invoice_void(invoice=invoice, actor=SYSTEM, reason="Billed in error")
    void = OutboundPosting.objects.get(record_type=c.VOID)
    assert void.action == "reverse"
    _drain()
    assert (
        avatax.document("revops-US01-INV-T-1")["status"]
        == fixture("void_transaction_response.json")["status"]
    )
    [request] = [r for r in avatax.requests if r["path"].endswith("/void")]
    assert request["json"]["code"].lower() == fixture("void_transaction_request.json")["code"].lower()


def test_voiding_an_invoice_never_committed_cancels_the_commit(avalara, avatax):
    invoice = _invoice(avalara)
    invoice_void(invoice=invoice, actor=SYSTEM, reason="Billed in error")
    assert list(OutboundPosting.objects.values_list("record_type", "status")) == [(c.COMMIT, S.CANCELLED)]
    _drain()
    assert avatax.document("revops-US01-INV-T-1") is None


def test_an_adjustment_waits_for_the_commit(avalara, avatax):
    invoice = _invoice(avalara)
    _credit(invoice)
    adjust = OutboundPosting.objects.get(record_type=c.ADJUST)
    assert c.commit_send(adjust.pk) == S.PENDING
    adjust.refresh_from_db()
    assert "INV-T-1 is not committed" in adjust.last_error
    _drain()
    assert avatax.document("revops-US01-INV-T-1")["version"] == 2


def test_an_outage_is_retried_with_a_lookup_before_the_repeat(avalara, avatax):
    _invoice(avalara)
    step = OutboundPosting.objects.get()
    avatax.mode = "unavailable"
    assert c.commit_send(step.pk) == S.PENDING
    assert not ExceptionItem.objects.exists()
    avatax.mode = "ok"
    assert c.commit_send(step.pk) == S.POSTED
    step.refresh_from_db()
    assert step.attempts == 2
    paths = [r["path"] for r in avatax.requests]
    # The repeat looks the document up by its code before creating it.
    assert paths == [
        "/api/v2/transactions/create",
        "/api/v2/companies/DEFAULT/transactions/revops-US01-INV-T-1",
        "/api/v2/transactions/create",
    ]
    assert c.commit_send(step.pk) == "not claimed (posted)"


def test_a_step_done_before_a_lost_answer_is_found_by_code(avalara, avatax):
    _invoice(avalara)
    step = OutboundPosting.objects.get()
    c.commit_send(step.pk)
    OutboundPosting.objects.filter(pk=step.pk).update(status=S.UNCERTAIN, erp_id="")
    assert c.commit_send(step.pk) == S.POSTED
    step.refresh_from_db()
    assert step.response["found_by_code"] == step.external_id
    assert len([r for r in avatax.requests if r["path"] == "/api/v2/transactions/create"]) == 1


def test_a_customer_without_an_address_opens_an_item_resolved_by_resubmitting(avalara, avatax, analyst):
    invoice = _invoice(avalara, address_line1="", region="", postal_code="")
    step = OutboundPosting.objects.get()
    assert c.commit_send(step.pk) == S.REJECTED
    step.refresh_from_db()
    item = ExceptionItem.objects.get(pk=step.exception_item_id)
    assert item.code == "VALIDATION_FAILED" and item.step_key == c.STEP_KEY
    assert item.correlation_id == invoice.correlation_id
    assert "needs a country and a postal code" in item.message
    customer = invoice.customer
    customer.postal_code = "92615"
    customer.save()
    exception_resubmit(item=item, correction={}, actor=Actor.for_user(analyst), reason="Address added")
    step.refresh_from_db()
    item.refresh_from_db()
    assert step.status == S.POSTED and item.status == ExceptionItem.Status.RESOLVED
    assert avatax.document("revops-US01-INV-T-1")["status"] == "Committed"


def test_a_refusal_by_avatax_is_a_business_item(avalara, avatax):
    _invoice(avalara)
    avatax.mode = "bad_request"
    step = OutboundPosting.objects.get()
    assert c.commit_send(step.pk) == S.REJECTED
    item = ExceptionItem.objects.get()
    assert item.code == "VALIDATION_FAILED" and "The address value was incomplete." in item.message
    assert item.title == "avatax-us refused the tax commit of invoice INV-T-1"


def test_no_step_without_an_enabled_avalara_connector(avalara):
    Connector.objects.filter(pk=avalara.pk).update(enabled=False)
    _invoice(avalara)
    assert not OutboundPosting.objects.exists()


def test_a_sale_outside_the_sellers_nexus_is_committed_without_tax(avalara, avatax):
    _invoice(avalara, address_line1="1 Congress Avenue", city="Austin", region="TX", postal_code="78701")
    _drain()
    document = avatax.document("revops-US01-INV-T-1")
    assert document["status"] == "Committed" and document["totalTax"] == 0
    assert document["lines"][0]["details"] == []


def test_invoices_written_in_bulk_look_up_the_tax_engine_once(avalara, avatax):
    from revops.services import bulk

    customers = [
        f.CustomerFactory(legal_entity=avalara.legal_entity, number=f"C-{i}", country="US", **IRVINE)
        for i in range(5)
    ]
    specs = [
        bulk.InvoiceSpec(
            number=f"INV-B-{i}",
            customer=customer,
            issue_date=dt.date(2026, 3, 1),
            lines=[InvoiceLineSpec("Yarn", quantity="1", unit_amount="100.00", tax_rate="7.75")],
        )
        for i, customer in enumerate(customers)
    ]
    with CaptureQueriesContext(connection) as queries:
        created = bulk.invoices_create_many(specs=specs, actor=SYSTEM)
    lookups = [q for q in queries.captured_queries if 'FROM "connectors_connector"' in q["sql"]]
    assert len(lookups) <= 2  # once by each listener (ERP postings, tax engine), not once per invoice
    steps = OutboundPosting.objects.filter(connector=avalara, record_type=c.COMMIT)
    assert sorted(steps.values_list("object_id", flat=True)) == sorted(inv.pk for inv in created.objects)


def test_invoices_issued_in_bulk_get_their_commits_with_one_connector_lookup(avalara):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer = f.CustomerFactory(legal_entity=avalara.legal_entity, country="US", **IRVINE)
    invoices = [f.InvoiceFactory(customer=customer, number=f"INV-B-{n}") for n in range(3)]
    pairs = [(m.BusinessEvent(type="invoice.issued"), invoice) for invoice in invoices]
    pairs.append((m.BusinessEvent(type="invoice.uncollectible"), invoices[0]))
    with CaptureQueriesContext(connection) as queries:
        c.on_business_events(pairs)
    lookups = [q["sql"] for q in queries.captured_queries if 'FROM "connectors_connector"' in q["sql"]]
    assert len(lookups) == 1
    steps = OutboundPosting.objects.filter(record_type=c.COMMIT).order_by("object_id")
    assert [step.external_id for step in steps] == [f"revops-US01-INV-B-{n}" for n in range(3)]
    assert c.on_business_event.batch is c.on_business_events


def test_a_tax_commit_is_no_hand_off_to_the_books_nor_an_erp_posting_waiting(avalara, avatax):
    import datetime as dt

    from django.utils import timezone

    from connectors.flow import HANDOFF_EVENT, invoices_waiting

    invoice = _invoice(avalara)
    now = timezone.now()
    assert invoices_waiting(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)) == []
    _drain()
    assert not m.BusinessEvent.objects.filter(type=HANDOFF_EVENT, subject_id=invoice.pk).exists()
