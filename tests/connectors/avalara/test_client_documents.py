"""AvaTaxClient's calls on committed documents (get by code, adjust, void)
against the fake AvaTax, with Avalara's own request fixtures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.avalara.client import AvaTaxClient
from connectors.errors import BusinessError, TransientError
from connectors.http import build_http_client
from tests.connectors.avalara.fake_avatax import ACCOUNT_ID, LICENSE_KEY, fixture

CODE = "8f8084cb-d8d4-418a-bdbb-131f7254e09b"  # the fixtures' transaction code


def _client(base_url: str) -> AvaTaxClient:
    return AvaTaxClient(base_url, ACCOUNT_ID, LICENSE_KEY, http_client=build_http_client(base_url))


def _commit(client: AvaTaxClient) -> dict:
    return client.create_transaction({**fixture("transaction_request.json"), "code": CODE})


def test_it_adjusts_a_committed_transaction_as_the_fixture_does(avatax):
    client = _client(avatax.base_url)
    assert _commit(client)["totalTax"] == Decimal("7.75")
    request = fixture("adjust_transaction_request.json")
    answer = client.adjust_transaction(
        "DEFAULT",
        CODE,
        reason=request["adjustmentReason"],
        description=request["adjustmentDescription"],
        model=request["newTransaction"],
    )
    expected = fixture("adjust_transaction_response.json")
    for name in ("status", "version", "totalAmount", "totalTax", "adjustmentReason", "adjustmentDescription"):
        assert answer[name] == expected[name], name
    sent = avatax.requests[-1]
    assert (sent["method"], sent["path"]) == ("POST", f"/api/v2/companies/DEFAULT/transactions/{CODE}/adjust")
    assert sent["json"] == request


def test_it_voids_a_committed_transaction_and_reads_it_back_by_code(avatax):
    client = _client(avatax.base_url)
    _commit(client)
    answer = client.void_transaction(
        "DEFAULT", CODE, reason_code=fixture("void_transaction_request.json")["code"]
    )
    assert answer["status"] == fixture("void_transaction_response.json")["status"] == "Cancelled"
    assert client.get_transaction("DEFAULT", CODE)["status"] == "Cancelled"
    with pytest.raises(BusinessError, match="voided") as caught:
        client.void_transaction("DEFAULT", CODE)
    assert caught.value.details["status"] == 400


def test_it_finds_no_transaction_under_an_unknown_code_and_refuses_to_adjust_it(avatax):
    client = _client(avatax.base_url)
    assert client.get_transaction("DEFAULT", "revops-US01-NOPE") is None
    with pytest.raises(BusinessError, match="not found"):
        client.adjust_transaction(
            "DEFAULT", "revops-US01-NOPE", reason="PriceAdjusted", description="", model={"lines": []}
        )


def test_it_refuses_to_commit_a_code_twice(avatax):
    client = _client(avatax.base_url)
    _commit(client)
    with pytest.raises(BusinessError, match="cannot be created again"):
        _commit(client)


@pytest.mark.parametrize("mode", ["unavailable", "broken"])
def test_an_outage_on_a_document_call_is_transient(avatax, mode):
    client = _client(avatax.base_url)
    _commit(client)
    avatax.mode = mode
    with pytest.raises(TransientError):
        client.get_transaction("DEFAULT", CODE)
    with pytest.raises(TransientError):
        client.void_transaction("DEFAULT", CODE)
