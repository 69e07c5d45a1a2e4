"""The metering connector: usage events pushed to the webhook as signed JSON
batches, answered 202 with their count, and processed through the pipeline
(idempotent on the event id, late usage to LATE_USAGE, bad events to items)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest

from connectors.metering import mapping
from connectors.models import Connector, InboundRecord, WebhookDelivery
from connectors.records import MappingError
from connectors.webhooks import process_delivery
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops.actors import Actor
from revops.models import UsageRecord
from tests.revops.usage_factories import billed_contract

pytestmark = pytest.mark.django_db

SECRET = "whsec_metering_test_secret"
URL = "/webhooks/metering-prod/"


@pytest.fixture
def billed():
    return billed_contract()


@pytest.fixture
def connector(billed):
    return Connector.objects.create(
        name="metering-prod",
        kind="metering",
        legal_entity=billed.customer.legal_entity,
        webhook_secret=SECRET,
    )


def _signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _event(event_id, quantity="500", at="2026-04-02T09:00:00Z", product="API-CALLS", **extra):
    return {
        "id": event_id,
        "contract": "K-USE",
        "product": product,
        "quantity": quantity,
        "timestamp": at,
        **extra,
    }


def _post(client, batch_id, *events, signature=None):
    body = json.dumps({"id": batch_id, "events": list(events)}).encode()
    return client.post(
        URL, body, content_type="application/json", HTTP_REVOPS_SIGNATURE=signature or _signed(body)
    )


def _deliver(client, batch_id, *events):
    response = _post(client, batch_id, *events)
    assert response.status_code == 202, response.content
    return process_delivery(WebhookDelivery.objects.get(event_id=batch_id).pk)


def test_it_accepts_a_signed_batch_with_202_and_processes_each_event(client, connector, billed):
    response = _post(
        client,
        "batch-1",
        _event("evt-april"),
        _event("evt-late", at="2026-03-28T09:00:00Z"),
        _event("evt-bad", quantity="-3"),
    )
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "event": "batch-1", "events": 3}
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "received" and not UsageRecord.objects.exists()

    process_delivery(delivery.pk)
    usage = UsageRecord.objects.get()
    assert (usage.source, usage.source_event_id, usage.quantity) == ("metering", "evt-april", Decimal("500"))
    assert usage.contract_line == billed.api and (usage.period_start, usage.period_end) == (
        dt.date(2026, 4, 1),
        dt.date(2026, 4, 30),
    )
    codes = dict(ExceptionItem.objects.values_list("external_id", "code"))
    assert codes == {"evt-late": "LATE_USAGE", "evt-bad": "VALIDATION_FAILED"}
    bad = ExceptionItem.objects.get(external_id="evt-bad")
    assert bad.error_details[0]["path"] == "quantity"
    assert InboundRecord.objects.get(external_id="evt-april").outcome == "created"


def test_it_records_an_event_once_across_redeliveries_and_batches(client, connector, billed):
    _deliver(client, "batch-1", _event("evt-1"))
    again = _post(client, "batch-1", _event("evt-1"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    _deliver(client, "batch-2", _event("evt-1", quantity="900"), _event("evt-late", at="2026-03-02"))
    _deliver(client, "batch-3", _event("evt-late", at="2026-03-02"))
    assert list(UsageRecord.objects.values_list("source_event_id", "quantity")) == [("evt-1", Decimal("500"))]
    item = ExceptionItem.objects.get()
    assert item.code == "LATE_USAGE" and item.occurrences == 2


def test_it_bills_late_metered_usage_when_the_item_is_resubmitted(client, connector, billed, analyst):
    _deliver(client, "batch-1", _event("evt-late", quantity="200", at="2026-03-28T09:00:00Z"))
    item = ExceptionItem.objects.get()
    assert item.step_key == "metering.usage"
    item = exception_resubmit(
        item=item,
        correction={"_late_usage": "next_period"},
        actor=Actor.for_user(analyst),
        reason="Meter caught up after an outage",
    )
    assert item.status == "resolved"
    usage = UsageRecord.objects.get()
    assert usage.late_treatment == "next_period" and usage.billed_on.amount == Decimal("2.00")


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (lambda body: _signed(body, "whsec_wrong"), "no matching signature"),
        (lambda body: _signed(body, timestamp=int(time.time()) - 310), "timestamp too old"),
        (lambda body: "", "Revops-Signature refused"),
    ],
)
def test_it_refuses_a_forged_or_stale_batch_and_changes_nothing(client, connector, signature, reason):
    body = json.dumps({"id": "batch-x", "events": [_event("evt-1")]}).encode()
    response = client.post(URL, body, content_type="application/json", HTTP_REVOPS_SIGNATURE=signature(body))
    assert response.status_code == 400 and reason in response.json()["error"]
    assert not WebhookDelivery.objects.exists() and not UsageRecord.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (json.dumps({"events": []}).encode(), "not a usage batch"),
        (json.dumps({"id": "b", "events": []}).encode(), "no events"),
    ],
)
def test_it_refuses_a_body_that_is_not_a_usage_batch(client, connector, body, reason):
    response = client.post(URL, body, content_type="application/json", HTTP_REVOPS_SIGNATURE=_signed(body))
    assert response.status_code == 400 and reason in response.json()["error"]
    assert not WebhookDelivery.objects.exists()


def test_it_refuses_a_body_over_the_size_limit(client, connector, settings):
    settings.REVOPS_WEBHOOK_MAX_BYTES = 1024
    body = json.dumps({"id": "big", "events": [_event(f"evt-{i}") for i in range(40)]}).encode()
    response = client.post(URL, body, content_type="application/json", HTTP_REVOPS_SIGNATURE=_signed(body))
    assert response.status_code == 413 and not WebhookDelivery.objects.exists()


def test_it_maps_an_event_with_its_own_period_and_line():
    record = mapping.map_usage(
        {
            "id": "evt-9",
            "contract_line": "si_1",
            "quantity": 12.5,
            "timestamp": "2026-03-28T09:00:00",
            "period_start": "2026-03-15",
            "period_end": "2026-04-14",
        }
    )
    assert record.contract_line_external_id == "si_1" and record.quantity == Decimal("12.5")
    assert record.usage_at == dt.datetime(2026, 3, 28, 9, tzinfo=dt.UTC)
    assert (record.period_start, record.period_end) == (dt.date(2026, 3, 15), dt.date(2026, 4, 14))
    assert mapping.map_usage(_event("e", at="2026-03-28")).usage_at == dt.datetime(2026, 3, 28, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"contract": "K", "product": "P", "quantity": "1", "timestamp": "2026-03-01"}, "id"),
        (_event("e", quantity="lots"), "quantity"),
        (_event("e", quantity="NaN"), "quantity"),
        (_event("e", quantity=True), "quantity"),
        (_event("e", at="28/03/2026"), "timestamp"),
        (_event("e", period_start="2026-03-01"), "period_end"),
        (_event("e", product=""), "product"),
    ],
)
def test_it_refuses_an_event_it_cannot_read(event, field):
    with pytest.raises(MappingError) as excinfo:
        mapping.map_usage(event)
    assert excinfo.value.field == field
