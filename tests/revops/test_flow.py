"""The Flow page of one quote-to-cash flow, its business SLAs and the dashboard's
counts, on a synthetic flow whose every timestamp is known."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from connectors.models import Connector, OutboundPosting
from exceptions_queue.models import ExceptionItem
from revops import models as m
from revops.actors import Actor
from revops.selectors.flow import BREACHING, DONE, NOT_APPLICABLE, PENDING, flow_detail
from revops.selectors.sla import SLAS, breach_rows, dashboard_sla_counts, sla_breach_counts, sla_breaches
from revops.services.events import event_record
from revops.templatetags.flow_tags import hours, lag
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
HUBSPOT = Actor.for_system("hubspot", "connector hubspot-us")
REVOPS = Actor.for_system("revops", "billing run")
STRIPE = Actor.for_system("stripe", "connector stripe-us")


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


def _event(type_, subject, actor, when, correlation_id, **payload):
    return event_record(
        type=type_,
        subject=subject,
        actor=actor,
        occurred_at=when,
        correlation_id=correlation_id,
        payload=payload,
    )


def _posting(connector, invoice, *, created, posted=None, status="posted"):
    """The invoice's ERP posting (the connector's listener made it when the invoice
    was issued after the connector existed), at the flow's own times."""
    values = {"status": status, "erp_id": "7001" if posted else "", "posted_at": posted}
    document = {"content_type": ContentType.objects.get_for_model(m.Invoice), "object_id": invoice.pk}
    if not OutboundPosting.objects.filter(**document).exists():
        OutboundPosting.objects.create(
            connector=connector,
            document_label=invoice.number,
            action="create",
            record_type="invoice",
            external_id=f"INV-US01-{invoice.number}",
            idempotency_key=f"key-{invoice.number}",
            correlation_id=invoice.correlation_id,
            **document,
            **values,
        )
    # created_at is stamped on insert; the synthetic flow needs its own time.
    OutboundPosting.objects.filter(**document).update(created_at=created, **values)


@pytest.fixture
def synthetic_flow():
    """Deal won 20 Feb 09:00 → contract active 21 Feb 12:00 (27 h: over the 24 h SLA);
    INV-A for February, issued 2 Mar 06:00 (30 h after the period ended), posted
    07:30, paid by PAY-A received 10 Mar 10:00 and applied 13 Mar 10:00 (72 h: over
    48 h); INV-B for 1–15 March, issued 16 Mar 02:00, its posting still pending."""
    customer = f.CustomerFactory()
    contract = f.ContractFactory(customer=customer, status="active", activated_at=at(21, 12, month=2))
    cid = contract.correlation_id
    _event("deal.won", contract, HUBSPOT, at(20, 9, month=2), cid, deal="9001")
    _event("contract.created", contract, HUBSPOT, at(20, 9, 1, month=2), cid)
    _event("contract.activated", contract, HUBSPOT, at(21, 12, month=2), cid)
    paid = f.InvoiceFactory(
        number="INV-A",
        customer=customer,
        contract=contract,
        correlation_id=cid,
        period_start=dt.date(2026, 2, 1),
        period_end=dt.date(2026, 2, 28),
        status="paid",
        amount_paid=Decimal("108.00"),
        amount_due=Decimal("0.00"),
    )
    _event("invoice.issued", paid, REVOPS, at(2, 6), cid, number="INV-A")
    connector = Connector.objects.create(
        name="netsuite-us", kind="netsuite", legal_entity=customer.legal_entity, direction="push"
    )
    _posting(connector, paid, created=at(2, 6), posted=at(2, 7, 30))
    _event(
        "revenue.handed_off", paid, Actor.for_system("netsuite", "connector netsuite-us"), at(2, 7, 30), cid
    )
    payment = f.PaymentFactory(
        number="PAY-A",
        customer=customer,
        correlation_id=cid,
        status="applied",
        amount_applied=Decimal("108.00"),
    )
    _event("payment.received", payment, STRIPE, at(10, 10), uuid.uuid4())  # before it joined the flow
    m.PaymentApplication.objects.create(
        payment=payment, invoice=paid, amount=Decimal("108.00"), applied_date=dt.date(2026, 3, 13)
    )
    _event("payment.applied", payment, REVOPS, at(13, 10), cid, invoice="INV-A")
    waiting = f.InvoiceFactory(
        number="INV-B",
        customer=customer,
        contract=contract,
        correlation_id=cid,
        issue_date=dt.date(2026, 3, 16),
        due_date=dt.date(2026, 4, 15),
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2026, 3, 15),
    )
    _event("invoice.issued", waiting, REVOPS, at(16, 2), cid, number="INV-B")
    _posting(connector, waiting, created=at(16, 2), status="pending")
    now = NOW
    open_item = ExceptionItem.objects.create(
        code="ERP_REJECTED",
        severity="high",
        title="netsuite-us rejected invoice INV-B",
        dedupe_key="netsuite.posting:flow-b",
        step_key="netsuite.posting",
        correlation_id=cid,
        first_seen_at=now,
        last_seen_at=now,
    )
    closed_item = ExceptionItem.objects.create(
        code="TAX_MISMATCH",
        severity="medium",
        status="resolved",
        title="Tax of INV-A differs",
        dedupe_key="tax:flow-a",
        step_key="stripe.invoice",
        correlation_id=cid,
        first_seen_at=at(1, 8),
        last_seen_at=at(1, 8),
        resolved_at=at(1, 9),
    )
    return {
        "contract": contract,
        "paid": paid,
        "waiting": waiting,
        "payment": payment,
        "open_item": open_item,
        "closed_item": closed_item,
    }


def _steps(flow):
    return {(stage.title, step.key): step for stage in flow.stages for step in stage.steps}


def test_it_lays_out_the_steps_in_order(synthetic_flow):
    flow = flow_detail(synthetic_flow["contract"].correlation_id, now=NOW)
    number = synthetic_flow["contract"].number
    assert [stage.title for stage in flow.stages] == [f"Order {number}", "Invoice INV-A", "Invoice INV-B"]
    assert [step.key for step in flow.stages[1].steps] == [
        "usage_closed",
        "invoice_issued",
        "posted_to_erp",
        "payment_received",
        "payment_applied",
        "revenue_handed_off",
    ]


def test_it_measures_each_lag_and_sla_exactly(synthetic_flow):
    steps = _steps(flow_detail(synthetic_flow["contract"].correlation_id, now=NOW))
    order = f"Order {synthetic_flow['contract'].number}"
    won, active = steps[(order, "deal_won")], steps[(order, "contract_activated")]
    assert (won.system, won.at, won.status) == ("hubspot", at(20, 9, month=2), DONE)
    assert active.lag == dt.timedelta(hours=27)
    assert active.sla.sla.key == "order_activation" and active.status == BREACHING
    assert active.status_label == "Breaching SLA (done late)"

    closed = steps[("Invoice INV-A", "usage_closed")]
    issued = steps[("Invoice INV-A", "invoice_issued")]
    assert closed.at == at(1, 0) and closed.status == DONE
    assert issued.lag == dt.timedelta(hours=30) and issued.status == DONE
    assert issued.sla.elapsed == dt.timedelta(hours=30) and not issued.breaching

    posted = steps[("Invoice INV-A", "posted_to_erp")]
    assert (posted.system, posted.at, posted.lag, posted.status) == (
        "netsuite-us",
        at(2, 7, 30),
        dt.timedelta(minutes=90),
        DONE,
    )
    received = steps[("Invoice INV-A", "payment_received")]
    applied = steps[("Invoice INV-A", "payment_applied")]
    assert (received.system, received.at, received.lag) == (
        "stripe",
        at(10, 10),
        dt.timedelta(days=8, hours=4),
    )
    assert applied.lag == dt.timedelta(hours=72) and applied.status == BREACHING
    handed = steps[("Invoice INV-A", "revenue_handed_off")]
    assert (handed.system, handed.lag, handed.status) == ("netsuite", dt.timedelta(0), DONE)


def test_a_step_still_pending_past_its_sla_breaches(synthetic_flow):
    steps = _steps(flow_detail(synthetic_flow["contract"].correlation_id, now=NOW))
    posted = steps[("Invoice INV-B", "posted_to_erp")]
    assert posted.state == PENDING and posted.at is None
    assert posted.sla.elapsed == dt.timedelta(days=4, hours=10) and posted.status == BREACHING
    assert posted.status_label == "Breaching SLA (pending past its SLA)"
    # Open and unpaid: the payment steps wait, with no SLA running yet.
    received = steps[("Invoice INV-B", "payment_received")]
    assert received.status == PENDING and received.sla is None
    # The usage of INV-B's period closed at its end, 16 Mar 00:00, 2 h before the issue.
    assert steps[("Invoice INV-B", "invoice_issued")].lag == dt.timedelta(hours=2)
    assert steps[("Invoice INV-B", "revenue_handed_off")].status == PENDING


def test_the_same_step_within_its_sla_is_not_flagged(synthetic_flow, settings):
    settings.REVOPS_SLA_ORDER_ACTIVATION_HOURS = 27
    settings.REVOPS_SLA_PAYMENT_POSTING_HOURS = 72
    steps = _steps(flow_detail(synthetic_flow["contract"].correlation_id, now=NOW))
    assert steps[(f"Order {synthetic_flow['contract'].number}", "contract_activated")].status == DONE
    assert steps[("Invoice INV-A", "payment_applied")].status == DONE


def test_it_lists_the_flows_exception_items_open_first(synthetic_flow):
    flow = flow_detail(synthetic_flow["contract"].correlation_id, now=NOW)
    assert [item.id for item in flow.exceptions] == [
        synthetic_flow["open_item"].pk,
        synthetic_flow["closed_item"].pk,
    ]
    assert [item.id for item in flow.open_exceptions] == [synthetic_flow["open_item"].pk]
    assert [(p.document_type, p.status) for p in flow.postings] == [
        ("invoice", "posted"),
        ("invoice", "pending"),
        ("payment_application", "pending"),  # the listener's posting of PAY-A's application
    ]


def test_an_invoice_without_contract_or_erp_has_steps_not_applicable():
    invoice = f.InvoiceFactory(status="void", amount_due=Decimal("0"))
    _event("invoice.issued", invoice, REVOPS, at(5, 9), invoice.correlation_id)
    steps = _steps(flow_detail(invoice.correlation_id, now=NOW))
    title = f"Invoice {invoice.number}"
    assert steps[(title, "usage_closed")].status == NOT_APPLICABLE
    assert steps[(title, "posted_to_erp")].status == NOT_APPLICABLE
    assert steps[(title, "payment_received")].status == NOT_APPLICABLE
    assert steps[(title, "invoice_issued")].sla is None


def test_a_payment_not_applied_yet_is_a_flow_of_its_own_waiting_past_its_sla():
    payment = f.PaymentFactory(number="PAY-LOOSE", status="unapplied")
    _event("payment.received", payment, STRIPE, at(10, 9), payment.correlation_id)
    flow = flow_detail(payment.correlation_id, now=NOW)
    assert [stage.title for stage in flow.stages] == ["Payment PAY-LOOSE"]
    received, applied = flow.stages[0].steps
    assert (received.status, received.system, received.at) == (DONE, "stripe", at(10, 9))
    assert applied.state == PENDING and applied.status == BREACHING
    assert applied.sla.elapsed == dt.timedelta(days=10, hours=3)


def test_the_dashboard_counts_flows_breaching_each_sla(synthetic_flow):
    counts = {row.sla.key: row.count for row in sla_breach_counts(now=NOW)}
    assert counts == {"order_activation": 1, "invoice_generation": 0, "payment_posting": 1, "erp_sync": 1}


def test_an_invoice_no_erp_posts_and_a_payment_reversed_in_time_breach_nothing(synthetic_flow):
    entity = f.LegalEntityFactory(code="DE01", functional_currency="EUR", country="DE")
    customer = f.CustomerFactory(legal_entity=entity, currency="EUR")
    invoice = f.InvoiceFactory(customer=customer, currency="EUR")
    _event("invoice.issued", invoice, REVOPS, at(1, 0), invoice.correlation_id)
    bounced = f.PaymentFactory(customer=customer, currency="EUR", status="reversed")
    _event("payment.received", bounced, STRIPE, at(5, 0), bounced.correlation_id)
    _event("payment.reversed", bounced, STRIPE, at(6, 0), bounced.correlation_id)
    counts = {row.sla.key: row.count for row in sla_breach_counts(now=NOW)}
    assert counts == {"order_activation": 1, "invoice_generation": 0, "payment_posting": 1, "erp_sync": 1}


def test_the_counts_look_back_thirty_days_only(synthetic_flow):
    later = NOW + dt.timedelta(days=40)
    counts = {row.sla.key: row.count for row in sla_breach_counts(now=later)}
    assert counts == {"order_activation": 0, "invoice_generation": 0, "payment_posting": 0, "erp_sync": 0}


def test_a_late_invoice_counts_against_invoice_generation(synthetic_flow, settings):
    settings.REVOPS_SLA_INVOICE_GENERATION_HOURS = 24
    counts = {row.sla.key: row.count for row in sla_breach_counts(now=NOW)}
    assert counts["invoice_generation"] == 1  # INV-A: 30 h after February ended
    rows = breach_rows(
        SLAS["invoice_generation"], list(sla_breaches(SLAS["invoice_generation"], now=NOW)), now=NOW
    )
    assert [(r.subject_label, r.started_at, r.done_at, r.over_by) for r in rows] == [
        ("INV-A", at(1, 0), at(2, 6), dt.timedelta(hours=6))
    ]


def test_the_dashboard_keeps_its_counts_five_minutes_unless_a_limit_changes(settings):
    cache.clear()
    five_days_ago = timezone.now() - dt.timedelta(days=5)

    def unapplied_payment():
        payment = f.PaymentFactory()
        _event("payment.received", payment, STRIPE, five_days_ago, payment.correlation_id)

    unapplied_payment()
    assert _payment_posting(dashboard_sla_counts()) == 1
    unapplied_payment()
    assert _payment_posting(dashboard_sla_counts()) == 1  # as counted a moment ago
    assert _payment_posting(dashboard_sla_counts(max_age=0)) == 2
    settings.REVOPS_SLA_PAYMENT_POSTING_HOURS = 49
    assert _payment_posting(dashboard_sla_counts()) == 2


def _payment_posting(counted) -> int:
    rows, _counted_at = counted
    return next(row.count for row in rows if row.sla.key == "payment_posting")


def test_the_breach_list_names_each_flow(synthetic_flow):
    sla = SLAS["payment_posting"]
    rows = breach_rows(sla, list(sla_breaches(sla, now=NOW)), now=NOW)
    assert [(r.subject_label, r.elapsed, r.over_by) for r in rows] == [
        ("PAY-A", dt.timedelta(hours=72), dt.timedelta(hours=24))
    ]
    # The payment's receipt was recorded under its own id; the row leads to the flow it joined.
    assert rows[0].correlation_id == synthetic_flow["contract"].correlation_id
    erp = breach_rows(SLAS["erp_sync"], list(sla_breaches(SLAS["erp_sync"], now=NOW)), now=NOW)
    assert [(r.subject_label, r.done_at) for r in erp] == [("INV-B", None)]


def test_auditors_read_the_flow_page_and_users_without_a_role_do_not(
    client, auditor, no_role_user, synthetic_flow
):
    contract = synthetic_flow["contract"]
    url = reverse("contract_flow", args=[contract.pk])
    client.force_login(no_role_user)
    assert client.get(url).status_code == 403
    assert client.get(reverse("flow", args=[contract.correlation_id])).status_code == 403
    client.force_login(auditor)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Deal won", "Contract activated", "Posted to ERP", "Revenue handed off", "Breaching SLA"):
        assert text in html
    assert 'class="flow-open-item"' in html and "netsuite-us rejected invoice INV-B" in html
    by_id = client.get(reverse("flow", args=[contract.correlation_id]))
    assert by_id.status_code == 200 and by_id.context["flow"].contract == contract


def test_an_unknown_correlation_id_is_a_404_with_a_message(client, analyst):
    client.force_login(analyst)
    response = client.get(reverse("flow", args=[uuid.uuid4()]))
    assert response.status_code == 404


def test_every_document_page_links_to_its_flow(client, analyst, synthetic_flow):
    client.force_login(analyst)
    cid = synthetic_flow["contract"].correlation_id
    flow_url = reverse("flow", args=[cid])
    assert (
        reverse("contract_flow", args=[synthetic_flow["contract"].pk])
        in client.get(reverse("contract_detail", args=[synthetic_flow["contract"].pk])).content.decode()
    )
    for name, obj in (
        ("invoice_detail", synthetic_flow["paid"]),
        ("payment_detail", synthetic_flow["payment"]),
    ):
        assert flow_url in client.get(reverse(name, args=[obj.pk])).content.decode()
    item_page = client.get(reverse("exceptions_queue:detail", args=[synthetic_flow["open_item"].pk]))
    assert flow_url in item_page.content.decode()
    connector = Connector.objects.get(name="netsuite-us")
    postings_page = client.get(reverse("connectors:erp_postings", args=[connector.pk]))
    assert flow_url in postings_page.content.decode()


def test_the_dashboard_links_each_sla_count_to_its_list(client, analyst):
    client.force_login(analyst)
    page = client.get(reverse("dashboard"))
    assert [row.sla.key for row in page.context["board"].slas] == list(SLAS)
    assert f"{reverse('sla_breach_list')}?sla=erp_sync" in page.content.decode()
    listing = client.get(reverse("sla_breach_list"), {"sla": "erp_sync"})
    assert listing.status_code == 200 and listing.context["sla"].key == "erp_sync"
    assert client.get(reverse("sla_breach_list"), {"sla": "coffee"}).status_code == 404


def test_lags_and_limits_read_as_a_person_writes_them():
    assert lag(dt.timedelta(hours=27)) == "1 d 3 h"
    assert lag(dt.timedelta(minutes=90)) == "1 h 30 min"
    assert lag(dt.timedelta(seconds=40)) == "40 s"
    assert lag(-dt.timedelta(minutes=5)) == "−5 min"
    assert lag(None) == "—"
    assert (hours(48), hours(4), hours(30)) == ("2 d", "4 h", "30 h")
