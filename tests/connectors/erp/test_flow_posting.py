"""A posting speaks for its flow: the requests it sends to the ERP and what it
logs carry the document's correlation id, and an invoice accepted by the ERP is
the flow's "revenue handed off"."""

from __future__ import annotations

import logging

import pytest

from connectors import posting as p
from connectors.http import build_http_client
from connectors.models import OutboundPosting
from revops import models as m
from revops.actors import Actor
from revops.correlation import CorrelationIdFilter, correlation_scope
from revops.selectors.flow import DONE, flow_detail
from revops.services.billing import invoice_issue
from revops.services.payments import payment_apply
from tests import factories as f

pytestmark = pytest.mark.django_db
SYSTEM = Actor.for_system("revops", "test")


def _issued(erp_connector) -> m.Invoice:
    customer = f.CustomerFactory(legal_entity=erp_connector.legal_entity)
    contract = f.ContractFactory(customer=customer)
    invoice = f.InvoiceFactory(
        status=m.Invoice.Status.DRAFT,
        customer=customer,
        contract=contract,
        correlation_id=contract.correlation_id,
    )
    return invoice_issue(invoice=invoice, actor=SYSTEM)


def _send_all() -> None:
    for posting_id in OutboundPosting.objects.filter(status="pending").values_list("pk", flat=True):
        p.posting_send(posting_id)


def test_every_request_of_a_posting_carries_the_flows_id(erp_connector, fake_erp):
    invoice = _issued(erp_connector)
    fake_erp.erp.received.clear()
    assert p.posting_send(OutboundPosting.objects.get().pk) == "posted"
    received = fake_erp.erp.received
    # The customer's upsert, then the invoice itself: both on behalf of the invoice's flow.
    assert [(r["method"], r["path"].split("/")[5]) for r in received] == [
        ("PUT", "customer"),
        ("POST", "invoice"),
    ]
    assert {r["correlation_id"] for r in received} == {str(invoice.correlation_id)}


def test_a_request_outside_any_flow_carries_no_id(erp_connector, fake_erp):
    fake_erp.erp.received.clear()
    with build_http_client(fake_erp.base_url) as http:
        http.get("/services/rest/record/v1/customer/eid:nobody")
        with correlation_scope("0f9c2b4e-3b1a-4f7e-8d2c-5a6b7c8d9e0f"):
            http.get("/services/rest/record/v1/customer/eid:nobody")
    assert [r["correlation_id"] for r in fake_erp.erp.received] == [
        None,
        "0f9c2b4e-3b1a-4f7e-8d2c-5a6b7c8d9e0f",
    ]


def test_what_the_posting_logs_carries_the_flows_id(erp_connector, fake_erp, caplog):
    invoice = _issued(erp_connector)
    caplog.handler.addFilter(CorrelationIdFilter())
    caplog.set_level(logging.INFO, logger="httpx")
    p.posting_send(OutboundPosting.objects.get().pk)
    requests = [r for r in caplog.records if r.name == "httpx"]
    assert requests and {r.correlation_id for r in requests} == {str(invoice.correlation_id)}


def test_the_erp_accepting_the_invoice_hands_its_revenue_off_once(erp_connector, fake_erp):
    invoice = _issued(erp_connector)
    _send_all()
    payment = f.PaymentFactory(customer=invoice.customer, legal_entity=invoice.legal_entity)
    payment_apply(payment=payment, invoice=invoice, actor=SYSTEM)
    _send_all()  # the payment application's posting hands nothing off
    handoffs = m.BusinessEvent.objects.filter(type="revenue.handed_off")
    (event,) = handoffs
    posting = OutboundPosting.objects.get(object_id=invoice.pk, record_type="invoice")
    assert (event.subject_id, event.correlation_id, event.source) == (
        invoice.pk,
        invoice.correlation_id,
        "netsuite",
    )
    assert event.payload == {
        "number": invoice.number,
        "connector": "netsuite-us",
        "erp_id": posting.erp_id,
        "record_type": "invoice",
    }
    p.posting_send(posting.pk)  # a duplicate delivery of the task changes nothing
    assert handoffs.count() == 1


def test_the_flow_shows_the_posting_and_the_hand_off(erp_connector, fake_erp):
    invoice = _issued(erp_connector)
    _send_all()
    flow = flow_detail(invoice.correlation_id)
    steps = {step.key: step for step in flow.stages[-1].steps}
    posting = OutboundPosting.objects.get()
    assert (steps["posted_to_erp"].state, steps["posted_to_erp"].at, steps["posted_to_erp"].system) == (
        DONE,
        posting.posted_at,
        "netsuite-us",
    )
    assert steps["revenue_handed_off"].state == DONE and steps["revenue_handed_off"].lag.total_seconds() >= 0
    assert not steps["posted_to_erp"].breaching
