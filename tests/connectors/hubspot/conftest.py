"""A fake HubSpot on a free loopback port per test, and a connector pointing at it."""

from __future__ import annotations

import httpx
import pytest

from connectors.hubspot.fake_server import FakeHubSpotServer
from connectors.models import Connector
from tests import factories as f

TOKEN = "pat-test-hubspot"
CLIENT_SECRET = "hubspot-test-client-secret"
# The address HubSpot is configured to call: revops's public address and the endpoint.
BASE_URL = "https://revops.example.com"
WEBHOOK_URL = f"{BASE_URL}/webhooks/hubspot-test/"


@pytest.fixture
def fake_hubspot():
    server = FakeHubSpotServer(0, token=TOKEN, client_secret=CLIENT_SECRET, webhook_url=WEBHOOK_URL)
    server.store.send = False  # deliveries are recorded; tests post them through the test client
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_api(fake_hubspot):
    """An httpx client on the fake, for its control endpoints."""
    with httpx.Client(base_url=fake_hubspot.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def connector(fake_hubspot, settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    settings.REVOPS_BASE_URL = BASE_URL
    return Connector.objects.create(
        name="hubspot-test",
        kind="hubspot",
        legal_entity=f.LegalEntityFactory(),
        base_url=fake_hubspot.base_url,
        credentials={"access_token": TOKEN},
        webhook_secret=CLIENT_SECRET,
    )


@pytest.fixture
def catalog(fake_hubspot):
    """Two companies and two monthly products in the fake: {name: id}."""
    store = fake_hubspot.store
    made = {
        "acme": store.create(
            "companies", {"name": "Acme Robotics", "country": "United States", "city": "Austin"}
        ),
        "nord": store.create("companies", {"name": "Nordlicht GmbH", "country": "Germany"}),
        "seat": store.create(
            "products",
            {
                "name": "Platform seat",
                "hs_sku": "HS-SEAT",
                "price": "40.00",
                "recurringbillingfrequency": "monthly",
            },
        ),
        "support": store.create(
            "products",
            {
                "name": "Support plan",
                "hs_sku": "HS-SUP",
                "price": "500.00",
                "recurringbillingfrequency": "monthly",
            },
        ),
    }
    return {name: obj["id"] for name, obj in made.items()}
