"""The HubSpot connector end to end against the fake HubSpot: a first sync lists
every object, later syncs search for changes, a won deal becomes an active
contract and a changed one is amended."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors import engine
from connectors.hubspot import kind as kind_module
from connectors.models import InboundRecord, SyncCursor
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops.actors import Actor
from revops.models import Contract, ContractAmendment, Customer, ExternalRef, Product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def same_clock(monkeypatch):
    """The fake runs on this machine's clock: no margin for clock skew is needed, so
    a second run reads only what changed."""
    monkeypatch.setattr(kind_module, "CLOCK_MARGIN_MS", 0)


def _sync(connector, **kwargs):
    run = engine.run_create(connector=connector, trigger="manual", **kwargs)
    run = engine.execute_run(run.pk)
    assert run.status == "succeeded", run.error_message
    assert run.read == run.created + run.updated + run.unchanged + run.skipped + run.business_errors
    return run


def _contract(deal_id: str) -> Contract:
    ref = ExternalRef.objects.get(system="hubspot", object_type="contract", external_id=deal_id)
    return Contract.objects.get(pk=ref.object_id)


def _open_deal(fake_api, catalog, *, currency="USD", items=None):
    response = fake_api.post(
        "/_fake/deals",
        json={
            "company_id": catalog["acme"],
            "name": "Acme platform",
            "currency": currency,
            "line_items": items or [{"product_id": catalog["seat"], "quantity": 25}],
        },
    )
    response.raise_for_status()
    return response.json()["id"]


def test_it_makes_a_deal_closed_in_the_fake_an_active_contract(connector, fake_api, catalog):
    deal_id = _open_deal(fake_api, catalog)
    first = _sync(connector)
    assert Customer.objects.filter(name="Acme Robotics", country="US").exists()
    assert set(Product.objects.values_list("sku", flat=True)) == {"HS-SEAT", "HS-SUP"}
    # An open deal is read and stored, but is no contract yet.
    assert not Contract.objects.exists()
    assert InboundRecord.objects.get(object_type="contract", external_id=deal_id).outcome == "unchanged"
    assert SyncCursor.objects.get(connector=connector, stream="contract").value["mode"] == "listed"

    fake_api.post(
        f"/_fake/deals/{deal_id}/close", json={"won": True, "close_date": "2026-11-02"}
    ).raise_for_status()
    second = _sync(connector)
    assert second.read < first.read  # only what changed since, through the search API
    contract = _contract(deal_id)
    assert contract.status == "active" and contract.activated_at is not None
    assert contract.start_date == dt.date(2026, 11, 2)
    assert contract.currency == "USD" and contract.billing_frequency == "monthly"
    assert contract.customer.name == "Acme Robotics"
    (line,) = contract.lines.all()
    assert (line.product.sku, line.quantity, line.unit_price) == ("HS-SEAT", Decimal(25), Decimal("40.00"))
    assert contract.history.first().history_source == "hubspot"


def test_an_amended_deal_amends_its_contract_from_the_amendment_date(connector, fake_api, catalog):
    deal_id = _open_deal(fake_api, catalog)
    fake_api.post(f"/_fake/deals/{deal_id}/close", json={"won": True, "close_date": "2026-10-01"})
    _sync(connector)
    contract = _contract(deal_id)
    fake_api.post(
        f"/_fake/deals/{deal_id}/line_items",
        json={
            "amendment_date": "2026-12-01",
            "line_items": [
                {"product_id": catalog["seat"], "quantity": 40},
                {"product_id": catalog["support"], "quantity": 1},
            ],
        },
    ).raise_for_status()
    _sync(connector)
    amendment = ContractAmendment.objects.get(contract=contract)
    assert amendment.effective_date == dt.date(2026, 12, 1)
    current = contract.lines.filter(effective_to__isnull=True).order_by("product__sku")
    assert [(line.product.sku, line.quantity, line.effective_from) for line in current] == [
        ("HS-SEAT", Decimal(40), dt.date(2026, 12, 1)),
        ("HS-SUP", Decimal(1), dt.date(2026, 12, 1)),
    ]
    ended = contract.lines.get(effective_from=dt.date(2026, 10, 1))
    assert ended.effective_to == dt.date(2026, 12, 1) and ended.quantity == 25
    # Read again with nothing new: no second amendment.
    _sync(connector)
    assert ContractAmendment.objects.filter(contract=contract).count() == 1


def test_it_pages_through_lists_and_searches_with_the_cursor(connector, fake_hubspot, catalog, settings):
    settings.REVOPS_SYNC_PAGE_SIZE = 1
    store = fake_hubspot.store
    for n in range(3):
        store.create("companies", {"name": f"Paged {n}", "country": "DE"})
    first = _sync(connector)
    assert Customer.objects.count() == 5
    assert first.pages >= 5 + 2  # one company or product a page, plus the empty deal page
    cursor = SyncCursor.objects.get(connector=connector, stream="customer").value
    assert cursor["mode"] == "listed" and cursor["since"] > 0
    target = next(o for o in store.objects["companies"].values() if o["properties"]["name"] == "Paged 1")
    store.update("companies", target["id"], {"name": "Paged One Renamed"})
    store.update("companies", catalog["nord"], {"city": "Bremen"})
    second = _sync(connector)
    assert Customer.objects.filter(name="Paged One Renamed").exists()
    assert Customer.objects.get(name="Nordlicht GmbH").city == "Bremen"
    # Only the changed companies (and the boundary one read again) come back.
    assert second.read <= 4 and second.updated == 2
    newer = SyncCursor.objects.get(connector=connector, stream="customer").value
    assert newer["since"] > cursor["since"]


def test_a_deal_with_an_unknown_product_opens_an_exception_at_its_payload_path(connector, fake_api, catalog):
    connector.object_types = ["customer", "contract"]  # products are not synced, so none is known
    connector.save()
    deal_id = _open_deal(fake_api, catalog)
    fake_api.post(f"/_fake/deals/{deal_id}/close", json={"won": True, "close_date": "2026-11-02"})
    run = _sync(connector)
    assert run.business_errors == 1 and not Contract.objects.exists()
    item = ExceptionItem.objects.get(code="UNKNOWN_PRODUCT")
    assert item.external_id == deal_id
    assert item.error_details[0]["path"] == "line_items.0.properties.hs_product_id"
    assert item.payload["line_items"][0]["properties"]["hs_product_id"] == catalog["seat"]


def test_a_won_deal_without_a_currency_opens_an_exception_at_its_payload_path(connector, fake_api, catalog):
    deal_id = _open_deal(fake_api, catalog, currency="")
    fake_api.post(f"/_fake/deals/{deal_id}/close", json={"won": True, "close_date": "2026-11-02"})
    run = _sync(connector)
    assert run.business_errors == 1
    item = ExceptionItem.objects.get(external_id=deal_id)
    assert item.code == "VALIDATION_FAILED" and "has no currency" in item.message
    assert item.error_details[0]["path"] == "properties.deal_currency_code"


def test_an_analyst_corrects_the_currency_and_the_deal_becomes_a_contract(
    connector, fake_api, catalog, analyst
):
    deal_id = _open_deal(fake_api, catalog, currency="")
    fake_api.post(f"/_fake/deals/{deal_id}/close", json={"won": True, "close_date": "2026-11-02"})
    _sync(connector)
    item = ExceptionItem.objects.get(external_id=deal_id)
    path = item.error_details[0]["path"]
    exception_resubmit(
        item=item,
        correction={path: "USD"},
        actor=Actor.for_user(analyst),
        reason="USD per the signed order form",
    )
    item.refresh_from_db()
    assert item.status == "resolved"
    contract = _contract(deal_id)
    assert contract.status == "active" and contract.currency == "USD"


def test_a_lost_deal_cancels_its_contract_and_one_never_won_makes_none(connector, fake_api, catalog):
    won = _open_deal(fake_api, catalog)
    never = _open_deal(fake_api, catalog)
    fake_api.post(f"/_fake/deals/{won}/close", json={"won": True, "close_date": "2026-09-01"})
    fake_api.post(f"/_fake/deals/{never}/close", json={"won": False, "close_date": "2026-09-03"})
    _sync(connector)
    assert Contract.objects.count() == 1 and _contract(won).status == "active"
    fake_api.post(f"/_fake/deals/{won}/close", json={"won": False, "close_date": "2026-09-01"})
    _sync(connector)
    contract = _contract(won)
    assert contract.status == "cancelled" and contract.cancelled_at is not None
    assert not ExternalRef.objects.filter(
        system="hubspot", object_type="contract", external_id=never
    ).exists()
