"""The Stripe connector end to end against localstripe: a full sync through the
list endpoints, an incremental sync through the events API, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from connectors import engine
from connectors.models import Connector, InboundRecord, SyncCursor, WebhookDelivery
from connectors.webhooks import process_delivery
from revops.models import Contract, Customer, ExternalRef, Invoice, Payment
from tests import factories as f
from tests.connectors.stripe.conftest import TEST_KEY
from tests.connectors.stripe.test_client_localstripe import build_account, post

pytestmark = pytest.mark.django_db
WEBHOOK_SECRET = "whsec_revops_test_secret"


@pytest.fixture
def connector(localstripe, settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    return Connector.objects.create(
        name="stripe-test",
        kind="stripe",
        legal_entity=f.LegalEntityFactory(),
        base_url=localstripe,
        credentials={"api_key": TEST_KEY},
        webhook_secret=WEBHOOK_SECRET,
    )


def _sync(connector, **kwargs):
    run = engine.run_create(connector=connector, trigger="manual", **kwargs)
    return engine.execute_run(run.pk)


def _refs(object_type):
    return set(
        ExternalRef.objects.filter(system="stripe", object_type=object_type).values_list(
            "external_id", flat=True
        )
    )


def test_a_full_sync_brings_every_object_with_history(connector, stripe_api):
    made = build_account(stripe_api)
    run = _sync(connector)
    assert run.status == "succeeded", run.error_message
    assert run.read == run.created + run.updated + run.unchanged + run.skipped + run.business_errors
    assert _refs("customer") == made["/v1/customers"]
    assert _refs("product") == made["/v1/products"]
    assert _refs("contract") == made["/v1/subscriptions"]
    assert _refs("invoice") == made["/v1/invoices"]
    assert Contract.objects.filter(status="active").count() == len(made["/v1/subscriptions"])
    assert {c.billing_frequency for c in Contract.objects.all()} == {"monthly", "quarterly", "annual"}
    assert Payment.objects.filter(gateway="stripe").exists()
    customer = Customer.objects.get(number=next(iter(made["/v1/customers"])))
    created = customer.history.last()
    assert (
        created.history_source == "stripe" and created.history_actor == f"connector stripe-test, run {run.pk}"
    )
    connector.refresh_from_db()
    assert connector.health == "healthy"
    assert SyncCursor.objects.get(connector=connector, stream="customer").value["mode"] == "listed"


def test_a_second_run_reads_changes_through_the_events_api(connector, stripe_api):
    build_account(stripe_api)
    first = _sync(connector)
    assert first.status == "succeeded"
    customers_before = Customer.objects.count()
    time.sleep(1.1)  # a new second, so the new objects' events come after the cursor
    newcomer = post(stripe_api, "/v1/customers", name="Newcomer GmbH", email="ap@newcomer.example")
    second = _sync(connector)
    assert second.status == "succeeded", second.error_message
    assert Customer.objects.count() == customers_before + 1
    assert Customer.objects.filter(number=newcomer["id"], name="Newcomer GmbH").exists()
    assert "event" in second.cursor_after and second.cursor_after["customer"]["_done"]
    third = _sync(connector)
    assert third.created == 0 and third.updated == 0


def _signed(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _event(customer_id, name, created=None, event_id="evt_test_1"):
    return {
        "id": event_id,
        "object": "event",
        "type": "customer.updated",
        "created": created or int(time.time()),
        "data": {
            "object": {
                "id": customer_id,
                "object": "customer",
                "name": name,
                "email": "ap@x.example",
                "currency": "usd",
                "created": 1700000000,
                "address": None,
            }
        },
    }


def test_a_signed_webhook_updates_the_record_once(
    client, connector, stripe_api, django_capture_on_commit_callbacks
):
    build_account(stripe_api)
    _sync(connector)
    customer = Customer.objects.order_by("id").first()
    body = json.dumps(_event(customer.number, "Renamed by webhook", created=int(time.time()) + 5)).encode()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/webhooks/stripe-test/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=_signed(body, WEBHOOK_SECRET),
        )
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert len(callbacks) == 1
    delivery = WebhookDelivery.objects.get()
    process_delivery(delivery.pk)
    customer.refresh_from_db()
    assert customer.name == "Renamed by webhook"
    again = client.post(
        "/webhooks/stripe-test/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=_signed(body, WEBHOOK_SECRET),
    )
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert WebhookDelivery.objects.count() == 1
    assert process_delivery(delivery.pk) == "already processed or being processed"


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (lambda body: _signed(body, "whsec_wrong"), "no matching signature"),
        (lambda body: _signed(body, WEBHOOK_SECRET, int(time.time()) - 310), "timestamp too old"),
        (lambda body: _signed(body, WEBHOOK_SECRET, int(time.time()) + 310), "too far in the future"),
        (lambda body: "", "Stripe signature refused"),
    ],
)
def test_a_forged_or_stale_webhook_is_refused_and_changes_nothing(client, connector, signature, reason):
    body = json.dumps(_event("cus_forged", "Forged")).encode()
    response = client.post(
        "/webhooks/stripe-test/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature(body)
    )
    assert response.status_code == 400 and reason in response.json()["error"]
    assert not WebhookDelivery.objects.exists() and not InboundRecord.objects.exists()
    assert not Customer.objects.filter(number="cus_forged").exists()


def test_an_older_event_arriving_late_does_not_undo_a_newer_one(connector, stripe_api):
    build_account(stripe_api)
    _sync(connector)
    customer = Customer.objects.order_by("id").first()
    kind = connector.kind
    from connectors.base import get_kind

    stripe = get_kind(kind)(connector)
    newer = stripe.webhook_records(
        _event(customer.number, "Newer", created=int(time.time()) + 100, event_id="evt_2")
    )
    older = stripe.webhook_records(
        _event(customer.number, "Older", created=int(time.time()) + 50, event_id="evt_1")
    )
    engine.process_records(newer, run=None, kind=stripe)
    engine.process_records(older, run=None, kind=stripe)
    customer.refresh_from_db()
    assert customer.name == "Newer"
    assert InboundRecord.objects.get(payload__id="evt_1").outcome == "stale"


def test_invoices_keep_their_tax_mode_and_totals(connector, stripe_api):
    build_account(stripe_api)
    _sync(connector)
    for invoice in Invoice.objects.all():
        lines = list(invoice.lines.all())
        assert sum(line.amount for line in lines) == invoice.subtotal
        assert invoice.total == invoice.subtotal + (
            invoice.tax_total if invoice.tax_mode == "exclusive" else 0
        )
