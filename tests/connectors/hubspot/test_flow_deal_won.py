"""A deal won in HubSpot starts its contract's flow: the order activation SLA runs
from the deal's close to the contract's activation."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors import engine
from connectors.hubspot import kind as kind_module
from revops.models import BusinessEvent, Contract, ExternalRef
from revops.selectors.flow import flow_detail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def same_clock(monkeypatch):
    monkeypatch.setattr(kind_module, "CLOCK_MARGIN_MS", 0)


def _sync(connector):
    run = engine.execute_run(engine.run_create(connector=connector, trigger="manual").pk)
    assert run.status == "succeeded", run.error_message
    return run


def test_a_won_deal_is_recorded_on_its_contracts_flow_before_the_activation(connector, fake_api, catalog):
    response = fake_api.post(
        "/_fake/deals",
        json={
            "company_id": catalog["acme"],
            "name": "Acme platform",
            "currency": "USD",
            "line_items": [{"product_id": catalog["seat"], "quantity": 25}],
        },
    )
    deal_id = response.json()["id"]
    fake_api.post(
        f"/_fake/deals/{deal_id}/close", json={"won": True, "close_date": "2026-11-02"}
    ).raise_for_status()
    _sync(connector)
    _sync(connector)  # nothing changed: the deal is not won a second time
    ref = ExternalRef.objects.get(system="hubspot", object_type="contract", external_id=deal_id)
    contract = Contract.objects.get(pk=ref.object_id)
    (won,) = BusinessEvent.objects.filter(type="deal.won")
    assert (won.subject_id, won.correlation_id, won.source) == (
        contract.pk,
        contract.correlation_id,
        "hubspot",
    )
    assert won.occurred_at == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert won.payload == {"deal": deal_id, "system": "hubspot"}
    steps = {step.key: step for step in flow_detail(contract.correlation_id).stages[0].steps}
    assert steps["deal_won"].system == "hubspot" and steps["deal_won"].at == won.occurred_at
    activated = steps["contract_activated"]
    activation = BusinessEvent.objects.get(type="contract.activated")
    assert (
        activated.at == activation.occurred_at and activated.lag == activation.occurred_at - won.occurred_at
    )
    assert activated.sla.sla.key == "order_activation"
