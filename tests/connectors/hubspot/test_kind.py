"""The HubSpot kind's edges: credentials, webhook events that name line items or
deleted objects, and HubSpot's 10,000-result search window."""

from __future__ import annotations

import pytest

from connectors import engine
from connectors.base import get_kind
from connectors.hubspot.kind import CLOCK_MARGIN_MS, SEARCH_WINDOW
from revops.models import Contract, Customer

pytestmark = pytest.mark.django_db


def _sync(connector):
    run = engine.run_create(connector=connector, trigger="manual")
    return engine.execute_run(run.pk)


def test_it_answers_a_connection_test_and_refuses_a_wrong_token(connector, fake_hubspot):
    kind = get_kind("hubspot")(connector)
    assert kind.test_connection() == f"HubSpot answered at {fake_hubspot.base_url}"
    kind.close()
    connector.credentials = {"access_token": "pat-wrong"}
    connector.save()
    run = _sync(connector)
    assert run.status == "failed" and run.error_class == "configuration"
    assert "401" in run.error_message and "pat-wrong" not in run.error_message
    connector.refresh_from_db()
    assert connector.health == "failing"


def test_a_line_item_event_reads_its_deal_again(connector, fake_api, catalog, fake_hubspot):
    deal = fake_api.post(
        "/_fake/deals", json={"company_id": catalog["acme"], "line_items": [{"product_id": catalog["seat"]}]}
    ).json()
    fake_api.post(f"/_fake/deals/{deal['id']}/close", json={"won": True, "close_date": "2026-10-01"})
    assert _sync(connector).status == "succeeded"
    (item_id,) = fake_hubspot.store.links[("deals", deal["id"])]["line_items"]
    fake_hubspot.store.update("line_items", item_id, {"quantity": "12"})
    kind = get_kind("hubspot")(connector)
    try:
        raws = kind.webhook_records(
            {
                "events": [
                    {"eventId": 1, "subscriptionType": "line_item.propertyChange", "objectId": int(item_id)}
                ]
            }
        )
        assert [(r.object_type, r.external_id) for r in raws] == [
            ("customer", catalog["acme"]),
            ("product", catalog["seat"]),
            ("contract", deal["id"]),
        ]
        assert raws[-1].payload["line_items"][0]["properties"]["quantity"] == "12"
        engine.process_records(raws, run=None, kind=kind)
    finally:
        kind.close()
    contract = Contract.objects.get(number=deal["id"])
    assert contract.lines.get(effective_to__isnull=True).quantity == 12
    assert contract.amendments.count() == 1


def test_a_deleted_company_closes_its_customer_and_keeps_its_name(connector, catalog, fake_hubspot):
    assert _sync(connector).status == "succeeded"
    fake_hubspot.store.archive("companies", catalog["nord"])
    kind = get_kind("hubspot")(connector)
    try:
        raws = kind.webhook_records(
            {
                "events": [
                    {"eventId": 2, "subscriptionType": "company.deletion", "objectId": int(catalog["nord"])}
                ]
            }
        )
        engine.process_records(raws, run=None, kind=kind)
        gone = kind.webhook_records(
            {"events": [{"eventId": 3, "subscriptionType": "company.deletion", "objectId": 987654}]}
        )
    finally:
        kind.close()
    customer = Customer.objects.get(number=catalog["nord"])
    assert customer.status == "closed" and customer.name == "Nordlicht GmbH"
    assert gone == []  # an object HubSpot no longer has: nothing to read, nothing fails


def test_a_long_catch_up_starts_a_new_search_before_hubspots_window_ends(connector, monkeypatch):
    kind = get_kind("hubspot")(connector)
    stamp = "2026-11-01T10:00:00.000Z"
    page = [{"id": "1", "properties": {"name": "A", "hs_lastmodifieddate": stamp}}]
    monkeypatch.setattr(
        type(kind.client()), "search_modified", lambda self, *a, **k: (page, str(SEARCH_WINDOW - 50))
    )
    try:
        result = kind.fetch("customer", {"mode": "searching", "since": 5, "after": "9850"}, full=False)
    finally:
        kind.close()
    assert result.done is False
    assert result.cursor == {"mode": "searching", "since": 1793527200000}


def test_the_first_search_starts_before_the_listing_did_by_the_clock_margin(connector, catalog, monkeypatch):
    monkeypatch.setattr("connectors.hubspot.kind.time.time", lambda: 1_800_000_000.0)
    kind = get_kind("hubspot")(connector)
    try:
        page = kind.fetch("customer", None, full=False)
    finally:
        kind.close()
    assert page.done and page.cursor == {"mode": "listed", "since": 1_800_000_000_000 - CLOCK_MARGIN_MS}
