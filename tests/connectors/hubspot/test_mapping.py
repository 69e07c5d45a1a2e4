"""HubSpot objects → records, on hand-written payloads in HubSpot's documented shapes."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.hubspot.mapping import map_company, map_deal, map_product
from connectors.records import MappingError

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def deal(**properties) -> dict:
    payload = load("deal_closedwon.json")
    payload["properties"].update(properties)
    return payload


def test_it_maps_a_company_to_a_customer_with_its_address():
    record = map_company(load("company.json"))
    assert record.external_id == "5123" and record.name == "Biglytics"
    assert record.currency is None  # companies carry none: the legal entity's applies
    assert record.address.country == "US" and record.address.city == "Cambridge"
    assert record.address.line2 == "Floor 4" and record.address.postal_code == "02141"
    assert record.version == "001769949000250"


def test_it_refuses_a_company_in_a_country_it_cannot_name():
    company = load("company.json")
    company["properties"]["country"] = "Atlantis"
    with pytest.raises(MappingError) as caught:
        map_company(company)
    assert caught.value.field == "properties.country" and caught.value.actual == "Atlantis"
    assert "Company 5123" in str(caught.value)


def test_it_maps_a_product_with_its_sku():
    record = map_product(load("product.json"))
    assert (record.external_id, record.sku, record.name, record.active) == (
        "7001",
        "AN-SEAT",
        "Analytics seat",
        True,
    )


def test_it_maps_a_closed_won_deal_to_an_active_contract_from_its_close_date():
    record = map_deal(load("deal_closedwon.json"))
    assert record.status == "active"
    assert record.start_date == dt.date(2026, 3, 1)
    assert record.customer_external_id == "5123"
    assert record.currency == "EUR" and record.billing_frequency == "monthly"
    seat, onboarding = record.lines
    assert (seat.external_id, seat.product_external_id, seat.quantity) == ("8001", "7001", Decimal(30))
    assert seat.unit_price == Decimal("36.00")  # 10 % off 40.00
    assert onboarding.unit_price == Decimal("420.00")  # 40 off 460.00, a one-time item
    # The newest of the deal and its line items orders revisions.
    assert record.version == "001772442000000"
    assert record.effective_date == dt.date(2026, 3, 2)


def test_it_takes_the_amendment_date_from_the_deal_property_when_set():
    assert map_deal(deal(revops_amendment_date="2026-04-15")).effective_date == dt.date(2026, 4, 15)


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("closedwon", "active"),
        ("closedlost", "cancelled"),
        ("appointmentscheduled", "draft"),
        ("contractsent", "draft"),
    ],
)
def test_it_maps_deal_stages(stage, status):
    record = map_deal(deal(dealstage=stage))
    assert record.status == status
    assert (record.cancelled_at is not None) == (status == "cancelled")


def test_an_open_deal_without_a_close_date_starts_on_its_create_date():
    record = map_deal(deal(dealstage="qualifiedtobuy", closedate=None))
    assert record.status == "draft" and record.start_date == dt.date(2026, 2, 10)


def _refusal(payload: dict) -> MappingError:
    with pytest.raises(MappingError) as caught:
        map_deal(payload)
    return caught.value


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda d: d["properties"].update(deal_currency_code=None),
            "properties.deal_currency_code",
            "has no currency",
        ),
        (
            lambda d: d["properties"].update(deal_currency_code="ZZZ"),
            "properties.deal_currency_code",
            "currency",
        ),
        (lambda d: d["properties"].update(closedate=None), "properties.closedate", "without a close date"),
        (lambda d: d["properties"].update(dealstage=""), "properties.dealstage", "no deal stage"),
        (lambda d: d.pop("associations"), "associations.companies.results", "not associated with a company"),
        (lambda d: d.update(line_items=[]), "line_items", "no line items"),
        (
            lambda d: d["line_items"][1]["properties"].update(hs_product_id=None),
            "line_items.1.properties.hs_product_id",
            "without a product",
        ),
        (
            lambda d: d["line_items"][0]["properties"].update(quantity="lots"),
            "line_items.0.properties.quantity",
            "not a number",
        ),
        (
            lambda d: d["line_items"][0]["properties"].update(recurringbillingfrequency="weekly"),
            "line_items.0.properties.recurringbillingfrequency",
            "frequency",
        ),
        (
            lambda d: d["line_items"][1]["properties"].update(recurringbillingfrequency="annually"),
            "line_items.0.properties.recurringbillingfrequency",
            "mixes billing frequencies",
        ),
        (
            lambda d: d["line_items"][1]["properties"].update(discount="500"),
            "line_items.1.properties.discount",
            "below zero",
        ),
    ],
)
def test_it_refuses_a_deal_it_cannot_map_with_the_payload_path(change, field, words):
    payload = copy.deepcopy(load("deal_closedwon.json"))
    change(payload)
    error = _refusal(payload)
    assert error.field == field
    assert words in str(error) and "Deal 9001" in str(error)


def test_it_refuses_a_payload_that_is_not_an_object():
    with pytest.raises(MappingError, match="HubSpot sent"):
        map_deal(["not", "a", "deal"])
