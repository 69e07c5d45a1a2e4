"""Salesforce Account, Contact and Opportunity records → records, on Salesforce's own
sample data (apex-recipes, CC0): every record maps or is refused with a precise
reason, and the hostile strings in descriptions come through untouched."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template

from connectors.records import MappingError
from connectors.salesforce.mapping import map_account, map_contact, map_opportunity, map_tree

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vendor" / "salesforce"


def records(name: str) -> list[dict]:
    return json.loads((FIXTURES / f"apex-recipes_{name}.json").read_text())["records"]


ACCOUNTS, CONTACTS, OPPORTUNITIES = records("Accounts"), records("Contacts"), records("Opportunities")
UNPLACEABLE_STAGE = "Assigned dynamically"  # not a standard stage: refused, not guessed


def tree(**options):
    options = {"currency": "USD", "product_external_id": "CRM-OPPORTUNITY", **options}
    return map_tree(accounts=ACCOUNTS, contacts=CONTACTS, opportunities=OPPORTUNITIES, **options)


def opportunity(position: int) -> dict:
    return copy.deepcopy(OPPORTUNITIES[position])


def _map(record: dict, **options):
    options = {"currency": "USD", "product_external_id": "CRM-OPPORTUNITY", **options}
    return map_opportunity(record, **options)


def test_it_maps_every_fixture_account_with_its_contacts():
    result = tree()
    assert len(result.customers) == len(ACCOUNTS) == 50
    assert {c.address.country for c in result.customers} == {"US"}
    assert sum(len(c.contacts) for c in result.customers) == len(CONTACTS) == 150
    first = next(c for c in result.customers if c.external_id == "AccountRef1")
    assert first.name == "Zoonoodle 37" and first.address.city == "Newark" and first.address.region == "DE"
    assert first.currency is None  # a single-currency org: the legal entity's currency applies
    assert any(c.name == "Bibby Cannan" and c.email == "bcannan1@illinois.edu" for c in first.contacts)


def test_it_maps_or_refuses_every_fixture_opportunity_and_loses_none():
    result = tree()
    refused = [(kind, i, e) for kind, i, e in result.refused if kind == "Opportunity"]
    assert len(result.opportunities) + len(refused) == len(OPPORTUNITIES)
    assert [kind for kind, _, _ in result.refused] == ["Opportunity"] * 8
    for _, i, error in refused:
        assert OPPORTUNITIES[i]["StageName"] == UNPLACEABLE_STAGE
        assert error.field == "StageName" and error.actual == UNPLACEABLE_STAGE
        assert f"Opportunity OpportunityRef{i + 1} is in a stage" in str(error)
    statuses = {o.stage: o.contract.status for o in result.opportunities}
    assert statuses["Closed/Won"] == "active" and statuses["Closed Lost"] == "cancelled"
    assert statuses["Negotiation/Review"] == "draft"


def test_it_keeps_every_hostile_description_exactly_as_given():
    by_id = {o.external_id: o for o in tree().opportunities}
    checked = 0
    for raw in OPPORTUNITIES:
        mapped = by_id.get(raw["attributes"]["referenceId"])
        if mapped is None:
            continue
        assert mapped.description == raw["description"]
        assert mapped.name == raw["name"]
        checked += 1
    assert checked == 42
    descriptions = {o.description for o in by_id.values()}
    assert "<img src=x onerror=alert('hi') />" in descriptions
    assert "\u202a\u202atest\u202a" in descriptions and "1;DROP TABLE users" in descriptions


def test_a_hostile_description_is_escaped_where_it_is_shown():
    mapped = _map(opportunity(7))  # "<img src=x onerror=alert('hi') />"
    shown = Template("<p>{{ text }}</p>").render(Context({"text": mapped.description}))
    assert shown == "<p>&lt;img src=x onerror=alert(&#x27;hi&#x27;) /&gt;</p>"


@pytest.mark.django_db
def test_hostile_strings_are_stored_and_read_back_unchanged():
    from connectors.models import Connector, InboundRecord
    from tests import factories as f

    connector = Connector.objects.create(name="sf-fixture", kind="files", legal_entity=f.LegalEntityFactory())
    for i, raw in enumerate(OPPORTUNITIES):
        InboundRecord.objects.create(
            connector=connector,
            object_type="contract",
            external_id=f"opp-{i}",
            content_hash=f"{i:064d}",
            payload=raw,
        )
    stored = {r.external_id: r.payload for r in InboundRecord.objects.filter(connector=connector)}
    assert [stored[f"opp-{i}"]["description"] for i in range(len(OPPORTUNITIES))] == [
        raw["description"] for raw in OPPORTUNITIES
    ]


def test_a_won_opportunity_becomes_an_active_contract_line_of_its_amount():
    raw = next(o for o in OPPORTUNITIES if o["StageName"] == "Closed/Won")
    mapped = _map(raw)
    contract = mapped.contract
    assert contract.status == "active"
    assert contract.start_date == dt.date.fromisoformat(raw["closedate"][:10])
    assert contract.customer_external_id == raw["accountId"].removeprefix("@")
    assert contract.currency == "USD" and contract.billing_frequency == "annual"
    (line,) = contract.lines
    assert line.product_external_id == "CRM-OPPORTUNITY" and line.quantity == 1
    assert line.unit_price == Decimal(raw["amount"])


def test_a_lost_opportunity_is_a_cancelled_contract_from_its_close_date():
    raw = next(o for o in OPPORTUNITIES if o["StageName"] == "Closed Lost")
    contract = _map(raw).contract
    assert contract.status == "cancelled" and contract.cancelled_at.date() == contract.start_date


def _refusal(record: dict, **options) -> MappingError:
    with pytest.raises(MappingError) as caught:
        _map(record, **options)
    return caught.value


@pytest.mark.parametrize(
    ("change", "options", "field", "words"),
    [
        (lambda o: None, {"currency": None}, "CurrencyIsoCode", "no corporate currency"),
        (
            lambda o: o.update(CurrencyIsoCode="ZZZ"),
            {},
            "CurrencyIsoCode",
            "currency revops does not support",
        ),
        (lambda o: o.update(amount="-1E02"), {}, "amount", "not a number"),
        (lambda o: o.update(amount="1E02"), {}, "amount", "not a number"),
        (lambda o: o.update(amount="-5.00"), {}, "amount", "negative"),
        (lambda o: o.update(amount="10.001"), {}, "amount", "more decimals than USD"),
        (lambda o: o.update(closedate="next spring"), {}, "closedate", "date"),
        (lambda o: o.pop("closedate"), {}, "CloseDate", "no close date"),
        (lambda o: o.update(accountId="@"), {}, "accountId", "names no Account"),
        (lambda o: o.update(StageName=""), {}, "StageName", "no stage"),
        (lambda o: o.update(description=["not", "text"]), {}, "description", "not text"),
        (lambda o: None, {"product_external_id": None}, "amount", "no product is configured"),
        (lambda o: o["attributes"].update(type="Lead"), {}, "attributes.type", "this one is a"),
    ],
)
def test_it_refuses_an_opportunity_it_cannot_map_precisely(change, options, field, words):
    raw = opportunity(0)
    change(raw)
    error = _refusal(raw, **options)
    assert error.field == field and words in str(error)


def test_a_won_opportunity_without_an_amount_is_refused():
    raw = next(copy.deepcopy(o) for o in OPPORTUNITIES if o["StageName"] == "Closed/Won")
    raw.pop("amount")
    error = _refusal(raw)
    assert error.field == "Amount" and "won without an amount" in str(error)


def test_it_reads_the_rest_query_shape_and_custom_stages_through_is_won():
    raw = {
        "attributes": {"type": "Opportunity", "url": "/services/data/v60.0/sobjects/Opportunity/006A"},
        "Id": "006A000000abcde",
        "AccountId": "001A000000xyz",
        "Name": "Renewal",
        "StageName": "Signed by legal",  # a custom stage: IsWon/IsClosed say what it means
        "IsWon": True,
        "IsClosed": True,
        "Amount": 1200.5,
        "CurrencyIsoCode": "EUR",
        "CloseDate": "2026-05-31",
        "SystemModstamp": "2026-06-01T10:00:00.000+0000",
    }
    mapped = map_opportunity(raw, product_external_id="CRM-OPPORTUNITY")
    assert mapped.contract.status == "active" and mapped.contract.currency == "EUR"
    assert mapped.contract.external_id == "006A000000abcde" and mapped.account_external_id == "001A000000xyz"
    assert mapped.contract.lines[0].unit_price == Decimal("1200.5")
    assert mapped.contract.version == "001780308000000"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda a: a.update(name="  "), "name", "has no name"),
        (lambda a: a.update(billingcountry="Narnia"), "billingcountry", "billing country"),
        (lambda a: a.pop("attributes"), "attributes.referenceId", "neither an Id nor a referenceId"),
    ],
)
def test_it_refuses_an_account_it_cannot_map_precisely(change, field, words):
    raw = copy.deepcopy(ACCOUNTS[0])
    change(raw)
    with pytest.raises(MappingError) as caught:
        map_account(raw)
    assert caught.value.field == field and words in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda c: c.update(lastName=""), "lastName", "no last name"),
        (lambda c: c.update(email="not an email"), "email", "not one"),
        (lambda c: c.pop("accountId"), "AccountId", "names no Account"),
    ],
)
def test_it_refuses_a_contact_it_cannot_map_precisely(change, field, words):
    raw = copy.deepcopy(CONTACTS[0])
    change(raw)
    with pytest.raises(MappingError) as caught:
        map_contact(raw)
    assert caught.value.field == field and words in str(caught.value)


def test_a_contact_of_an_account_missing_from_the_export_is_refused_not_dropped():
    orphan = {**copy.deepcopy(CONTACTS[0]), "accountId": "@AccountRef999"}
    result = map_tree(accounts=ACCOUNTS, contacts=[orphan])
    ((kind, position, error),) = result.refused
    assert (kind, position, error.field) == ("Contact", 0, "accountId")
    assert sum(len(c.contacts) for c in result.customers) == 0
