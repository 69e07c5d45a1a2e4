"""AvaTaxClient against a fake AvaTax on loopback: the requests it sends and
how each failure is classified."""

from __future__ import annotations

import base64
from decimal import Decimal

import httpx
import pytest

from connectors.avalara.client import AvaTaxClient
from connectors.errors import BusinessError, ConfigurationError, TransientError
from connectors.http import build_http_client
from tests.connectors.avalara.fake_avatax import ACCOUNT_ID, LICENSE_KEY, FakeAvaTax, fixture


def _client(base_url: str, license_key: str = LICENSE_KEY) -> AvaTaxClient:
    return AvaTaxClient(base_url, ACCOUNT_ID, license_key, http_client=build_http_client(base_url))


def test_it_tests_the_connection_with_the_ping_endpoint(avatax):
    assert _client(avatax.base_url).test_connection() == (
        f"AvaTax answered at {avatax.base_url} (24.1.0, account {ACCOUNT_ID})"
    )
    (request,) = avatax.requests
    assert (request["method"], request["path"]) == ("GET", "/api/v2/utilities/ping")
    expected = base64.b64encode(f"{ACCOUNT_ID}:{LICENSE_KEY}".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"


def test_it_takes_an_unauthenticated_ping_as_a_configuration_error(avatax):
    with pytest.raises(ConfigurationError, match="did not accept the account id and license key") as caught:
        _client(avatax.base_url, license_key="WRONG").test_connection()
    assert "WRONG" not in str(caught.value)


def test_it_creates_an_uncommitted_transaction_and_reads_amounts_as_decimal(avatax):
    request = {**fixture("transaction_request.json"), "type": "SalesOrder", "commit": False}
    answer = _client(avatax.base_url).create_transaction(request)
    assert answer["totalTax"] == Decimal("7.75") and isinstance(answer["lines"][0]["tax"], Decimal)
    sent = avatax.requests[-1]
    assert (sent["method"], sent["path"]) == ("POST", "/api/v2/transactions/create")
    assert sent["json"]["type"] == "SalesOrder" and sent["json"]["commit"] is False
    assert sent["headers"]["Content-Type"] == "application/json"


def test_it_takes_a_401_as_a_configuration_error_without_the_license_key(avatax):
    avatax.mode = "unauthorized"
    with pytest.raises(ConfigurationError, match="401") as caught:
        _client(avatax.base_url).create_transaction({"lines": []})
    assert LICENSE_KEY not in str(caught.value) and LICENSE_KEY not in repr(caught.value.to_dict())


@pytest.mark.parametrize("mode", ["unavailable", "broken"])
def test_it_takes_a_5xx_as_transient(avatax, mode):
    avatax.mode = mode
    with pytest.raises(TransientError, match="50"):
        _client(avatax.base_url).create_transaction({"lines": []})


def test_it_takes_a_refused_connection_as_transient(settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    gone = FakeAvaTax().start()
    base_url = gone.base_url
    gone.stop()  # nothing listens on that port any more
    with pytest.raises(TransientError, match="ConnectError"):
        _client(base_url).ping()


def test_it_takes_a_400_as_a_business_error_with_avataxs_message(avatax):
    avatax.mode = "bad_request"
    with pytest.raises(BusinessError, match="The address value was incomplete"):
        _client(avatax.base_url).create_transaction({"lines": []})


def test_it_takes_an_answer_that_is_not_json_as_a_configuration_error(avatax):
    avatax.mode = "not_json"
    with pytest.raises(ConfigurationError, match="did not answer with JSON"):
        _client(avatax.base_url).ping()


def test_it_refuses_to_start_without_credentials():
    with pytest.raises(ConfigurationError, match="account id and license key"):
        AvaTaxClient("https://rest.avatax.com", "", "", http_client=httpx.Client())


def test_it_never_shows_the_license_key_in_its_repr(avatax):
    assert LICENSE_KEY not in repr(_client(avatax.base_url))
