"""HubSpot webhooks through the public endpoint: v3-signed deliveries from the
fake HubSpot are accepted once and processed; forged, stale and unsigned ones
are refused with 400, logged, and change nothing."""

from __future__ import annotations

import json
import logging
import time

import pytest

from connectors.hubspot.signature import signature_v3
from connectors.models import WebhookDelivery
from connectors.webhooks import process_delivery
from revops.models import Contract, ExternalRef
from tests.connectors.hubspot.conftest import CLIENT_SECRET, WEBHOOK_URL

pytestmark = pytest.mark.django_db
ENDPOINT = "/webhooks/hubspot-test/"


def _post(client, delivery: dict, **header_changes):
    headers = {k: v for k, v in delivery["headers"].items() if k != "Content-Type"}
    headers.update(header_changes)
    return client.post(ENDPOINT, delivery["body"], content_type="application/json", headers=headers)


def _signed(
    body: str, *, stamp: int | None = None, secret: str = CLIENT_SECRET, url: str = WEBHOOK_URL
) -> dict:
    stamp = stamp if stamp is not None else int(time.time() * 1000)
    return {
        "body": body,
        "headers": {
            "X-HubSpot-Request-Timestamp": str(stamp),
            "X-HubSpot-Signature-v3": signature_v3(secret, "POST", url, body.encode(), stamp),
        },
    }


def _won_deal(fake_api, catalog) -> tuple[str, dict]:
    deal = fake_api.post(
        "/_fake/deals",
        json={
            "company_id": catalog["acme"],
            "currency": "EUR",
            "line_items": [{"product_id": catalog["seat"]}],
        },
    ).json()
    fake_api.post(f"/_fake/deals/{deal['id']}/close", json={"won": True, "close_date": "2026-11-20"})
    deliveries = fake_api.get("/_fake/webhooks").json()["results"]
    return deal["id"], deliveries[-1]


def test_a_signed_webhook_makes_the_won_deal_an_active_contract_once(
    client, connector, fake_api, catalog, django_capture_on_commit_callbacks
):
    deal_id, delivery = _won_deal(fake_api, catalog)
    assert json.loads(delivery["body"])[0]["propertyValue"] == "closedwon"
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, delivery)
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert len(callbacks) == 1
    stored = WebhookDelivery.objects.get()
    assert stored.event_type == "deal.propertyChange"
    # Nothing was synced before: the deal's company and product are read along with it.
    assert process_delivery(stored.pk) == "created 3"
    contract = Contract.objects.get(
        pk=ExternalRef.objects.get(system="hubspot", object_type="contract", external_id=deal_id).object_id
    )
    assert contract.status == "active" and str(contract.start_date) == "2026-11-20"
    assert contract.customer.name == "Acme Robotics" and contract.lines.get().product.sku == "HS-SEAT"

    again = _post(client, delivery)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert WebhookDelivery.objects.filter(event_id=stored.event_id).count() == 1
    assert process_delivery(stored.pk) == "already processed or being processed"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda body: _signed(body, secret="not-the-secret"), "no matching signature"),
        (lambda body: _signed(body, stamp=int(time.time() * 1000) - 301_000), "timestamp too old"),
        (lambda body: _signed(body, stamp=int(time.time() * 1000) + 301_000), "too far in the future"),
        (lambda body: {"body": body, "headers": {}}, "missing X-HubSpot-Signature-v3"),
    ],
)
def test_a_forged_stale_or_unsigned_webhook_is_refused_and_logged(client, connector, caplog, make, reason):
    body = json.dumps([{"eventId": 77, "subscriptionType": "deal.propertyChange", "objectId": 1}])
    with caplog.at_level(logging.WARNING, logger="connectors.webhooks"):
        response = _post(client, make(body))
    assert response.status_code == 400 and reason in response.json()["error"]
    assert "HubSpot signature refused" in caplog.text
    assert not WebhookDelivery.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, connector, fake_api, catalog):
    _, delivery = _won_deal(fake_api, catalog)
    tampered = {**delivery, "body": delivery["body"].replace("closedwon", "closedlost")}
    response = _post(client, tampered)
    assert response.status_code == 400 and "no matching signature" in response.json()["error"]
    assert not WebhookDelivery.objects.exists()


def test_a_signed_body_that_is_not_hubspot_events_is_refused(client, connector):
    response = _post(client, _signed(json.dumps({"hello": "world"})))
    assert response.status_code == 400 and "not a list of HubSpot events" in response.json()["error"]
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_signed_for_the_host_it_reached_is_accepted(client, connector, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "hubs.example.net"]
    body = json.dumps([{"eventId": 5, "subscriptionType": "contact.creation", "objectId": 9}])
    delivery = _signed(body, url="https://hubs.example.net/webhooks/hubspot-test/")
    response = _post(client, delivery, Host="hubs.example.net")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    # A contact event names nothing revops imports: the delivery is kept and processed to no records.
    assert process_delivery(WebhookDelivery.objects.get(event_id="5").pk) == "no records"


def test_a_delivery_signed_for_another_host_is_refused(client, connector, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "hubs.example.net"]
    body = json.dumps([{"eventId": 6, "subscriptionType": "deal.creation", "objectId": 9}])
    delivery = _signed(body, url="https://attacker.example/webhooks/hubspot-test/")
    response = _post(client, delivery, Host="hubs.example.net")
    assert response.status_code == 400 and "no matching signature" in response.json()["error"]
