"""manage.py demo_connectors: the demo's stripe-local connector, and seeding a local
Stripe (localstripe) with demo data and its webhook, then syncing it end to end."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from connectors import engine
from connectors.management.commands import demo_connectors as demo
from connectors.models import Connector
from connectors.stripe.signature import verify_stripe_signature
from revops.models import Contract, Customer, ExternalRef, Invoice, Payment
from tests import factories as f

pytestmark = pytest.mark.django_db
STRIPE_URL = "http://127.0.0.1:8420"


def run(**options) -> str:
    out = StringIO()
    call_command("demo_connectors", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def loopback_allowed(settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]


# -- the connector ----------------------------------------------------------------------------


def test_it_creates_the_connector_once_on_us01(loopback_allowed):
    f.LegalEntityFactory(code="AA01", name="First Entity", country="GB", functional_currency="GBP")
    us01 = f.LegalEntityFactory(code="US01")

    first = run(stripe_url=STRIPE_URL + "/")
    connector = Connector.objects.get()
    second = run(stripe_url=STRIPE_URL)

    assert first.startswith("Created connector stripe-local") and first.count("\n") == 1
    assert "nothing to do" in second
    connector.refresh_from_db()
    assert (connector.name, connector.kind, connector.legal_entity, connector.base_url) == (
        "stripe-local",
        "stripe",
        us01,
        STRIPE_URL,
    )
    assert connector.schedule_type == "manual" and connector.enabled and connector.q_schedule_id is None
    assert connector.credentials.reveal() == {"api_key": "sk_test_demo"}
    assert connector.webhook_secret.reveal() == "whsec_demo_local"
    (created,) = connector.history.all()
    assert created.history_type == "+"
    assert (created.history_source, created.history_actor) == ("demo", "demo data loader")
    assert created.history_change_reason


def test_its_secrets_are_stored_encrypted(loopback_allowed):
    f.LegalEntityFactory(code="US01")
    run(stripe_url=STRIPE_URL)

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT credentials, webhook_secret FROM {Connector._meta.db_table} WHERE name = %s",
            ["stripe-local"],
        )
        credentials, secret = cursor.fetchone()

    assert credentials and "sk_test_demo" not in credentials and "api_key" not in credentials
    assert secret and "whsec_demo_local" not in secret


def test_a_new_url_updates_the_connector_with_one_history_row(loopback_allowed):
    f.LegalEntityFactory(code="US01")
    run(stripe_url=STRIPE_URL)

    output = run(stripe_url="http://127.0.0.1:8421")

    assert output.startswith("Updated connector stripe-local")
    connector = Connector.objects.get()
    assert connector.base_url == "http://127.0.0.1:8421"
    assert [h.history_type for h in connector.history.order_by("history_date")] == ["+", "~"]


def test_without_us01_it_uses_the_first_legal_entity(loopback_allowed):
    first = f.LegalEntityFactory(code="DE01", country="DE", functional_currency="EUR")
    f.LegalEntityFactory(code="AT01", country="AT", functional_currency="EUR")

    run(stripe_url=STRIPE_URL)

    assert Connector.objects.get().legal_entity == first


def test_without_any_legal_entity_it_says_so_and_creates_nothing(loopback_allowed):
    output = run(stripe_url=STRIPE_URL)

    assert "No legal entity" in output
    assert not Connector.objects.exists()


def test_a_url_connectors_may_not_reach_is_refused_with_the_reason(settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = []
    f.LegalEntityFactory(code="US01")

    with pytest.raises(CommandError, match="base_url"):
        run(stripe_url=STRIPE_URL)
    assert not Connector.objects.exists()


def test_it_needs_something_to_do():
    with pytest.raises(CommandError, match="--stripe-url"):
        run()


# -- seeding the local Stripe -----------------------------------------------------------------


class _Inbox(BaseHTTPRequestHandler):
    deliveries: list[tuple[str, bytes, str]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.deliveries.append((self.path, body, self.headers.get("Stripe-Signature", "")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def inbox(stripe_api):
    """A web server standing in for revops; afterwards the demo webhook is pointed away from it."""
    _Inbox.deliveries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Inbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Inbox.deliveries
    # localstripe cannot forget a webhook: leave it one that no event matches.
    stripe_api.post(
        f"/_config/webhooks/{demo.WEBHOOK_ID}",
        data={"url": "http://127.0.0.1:9/", "secret": "whsec_unused", "events[0]": "demo.never"},
    ).raise_for_status()
    server.shutdown()
    server.server_close()


def _count(stripe_api, path: str) -> list[dict]:
    response = stripe_api.get(path, params={"limit": 100})
    response.raise_for_status()
    body = response.json()
    assert not body["has_more"]
    return body["data"]


def test_seeding_fills_an_empty_stripe_and_registers_the_signed_webhook(localstripe, stripe_api, inbox):
    base, deliveries = inbox

    output = run(seed_stripe=localstripe, webhook_base=base)

    assert "Seeded the local Stripe" in output
    assert f"{base}/webhooks/stripe-local/" in output
    customers = _count(stripe_api, "/v1/customers")
    assert sorted(c["name"] for c in customers) == sorted(c[0] for c in demo.CUSTOMERS)
    assert all(c["email"] and c["address"]["country"] == "US" and c["address"]["state"] for c in customers)
    assert {p["id"] for p in _count(stripe_api, "/v1/plans")} == set(demo.PLANS)
    subscriptions = _count(stripe_api, "/v1/subscriptions")
    assert len(subscriptions) == demo.SUBSCRIBED and all(s["status"] == "active" for s in subscriptions)
    invoices = _count(stripe_api, "/v1/invoices")
    assert len(invoices) == demo.SUBSCRIBED and all(i["status"] == "paid" for i in invoices)
    intents = _count(stripe_api, "/v1/payment_intents")
    assert len(intents) == demo.SUBSCRIBED + len(demo.ONE_OFF_PAYMENTS)
    assert sum(i["status"] == "succeeded" for i in intents) == len(intents) - 1

    # The seeding's own events are not delivered; a change after it is, signed.
    stripe_api.post(f"/v1/customers/{customers[0]['id']}", data={"name": "Renamed in Stripe"})
    deadline = time.monotonic() + 15  # localstripe waits a second before it delivers
    while not deliveries and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # room for any stray delivery to arrive too
    assert len(deliveries) == 1, [json.loads(body)["type"] for _, body, _ in deliveries]
    path, body, signature = deliveries[0]
    assert path == "/webhooks/stripe-local/"
    assert verify_stripe_signature(body, signature, ["whsec_demo_local"])
    event = json.loads(body)
    assert (event["type"], event["data"]["object"]["name"]) == ("customer.updated", "Renamed in Stripe")


def test_seeding_twice_does_not_duplicate(localstripe, stripe_api, inbox):
    base, _ = inbox
    run(seed_stripe=localstripe, webhook_base=base)
    before = {path: len(_count(stripe_api, path)) for path in ("/v1/customers", "/v1/subscriptions")}

    output = run(seed_stripe=localstripe + "/", webhook_base=base)

    assert "not seeded again" in output and "Registered" in output
    assert {path: len(_count(stripe_api, path)) for path in before} == before


def test_seeding_an_unreachable_stripe_fails_with_the_address():
    with pytest.raises(CommandError, match=r"127\.0\.0\.1:9/v1/customers"):
        run(seed_stripe="http://127.0.0.1:9")


# -- end to end -------------------------------------------------------------------------------


def test_the_demo_connector_syncs_the_seeded_stripe(localstripe, stripe_api, inbox, loopback_allowed):
    base, _ = inbox
    f.LegalEntityFactory(code="US01")
    run(stripe_url=localstripe, seed_stripe=localstripe, webhook_base=base)
    connector = Connector.objects.get(name="stripe-local")

    sync = engine.run_create(connector=connector, trigger="manual", requested_by="test")
    sync = engine.execute_run(sync.pk)

    assert sync.status == "succeeded", sync.error_message
    assert sync.business_errors == 0
    refs = ExternalRef.objects.filter(system="stripe")
    customer_ids = set(refs.filter(object_type="customer").values_list("external_id", flat=True))
    assert len(customer_ids) == len(demo.CUSTOMERS)
    northwind = Customer.objects.get(name="Northwind Analytics Inc.")
    assert northwind.number in customer_ids
    assert Contract.objects.filter(status="active").count() == demo.SUBSCRIBED
    assert {c.billing_frequency for c in Contract.objects.all()} == {"monthly", "quarterly", "annual"}
    assert Invoice.objects.count() == demo.SUBSCRIBED
    assert Payment.objects.filter(gateway="stripe").exists()
