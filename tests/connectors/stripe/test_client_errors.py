"""StripeClient's requests and error classes, against a scripted Stripe (httpx.MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import BusinessError, ConfigurationError, TransientError
from connectors.stripe.client import StripeClient

BASE = "https://api.stripe.test"
KEY = "sk_test_51SecretKeyThatMustNeverShow"


def client_for(handler) -> StripeClient:
    return StripeClient(BASE, KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler)))


def answer(status: int, body=None, **kwargs):
    return lambda request: httpx.Response(status, json=body, **kwargs)


def assert_key_hidden(error: Exception) -> None:
    assert KEY not in str(error)
    assert KEY not in repr(error.to_dict())


def test_it_sends_the_key_as_a_bearer_token_and_the_paging_parameters():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    client_for(handler).list(
        "/v1/events", starting_after="evt_9", limit=2, params={"created[gte]": 1700000000}
    )

    (request,) = seen
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.url.path == "/v1/events"
    assert dict(request.url.params) == {"created[gte]": "1700000000", "limit": "2", "starting_after": "evt_9"}


def test_it_sends_a_pinned_api_version():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"object": "balance", "available": [], "livemode": False})

    StripeClient(
        BASE, KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler)), api_version="2024-06-20"
    ).test_connection()

    assert seen[0].headers["Stripe-Version"] == "2024-06-20"


def test_a_429_is_transient_and_carries_retry_after():
    with pytest.raises(TransientError) as caught:
        client_for(
            answer(429, {"error": {"message": "Too many requests"}}, headers={"Retry-After": "7"})
        ).list("/v1/customers")

    assert caught.value.retry_after == 7
    assert_key_hidden(caught.value)
    assert caught.value.request["headers"]["authorization"] == "[redacted]"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(status):
    with pytest.raises(TransientError) as caught:
        client_for(answer(status, {"error": {"message": "boom"}})).list("/v1/invoices")

    assert str(status) in caught.value.message


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("read timed out"), httpx.ConnectError("connection refused")]
)
def test_timeouts_and_connection_errors_are_transient(failure):
    def handler(request):
        raise failure

    with pytest.raises(TransientError) as caught:
        client_for(handler).list("/v1/customers")

    assert_key_hidden(caught.value)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_a_configuration_error(status):
    body = {
        "error": {"message": f"Invalid API Key provided: {KEY[:12]}****", "type": "invalid_request_error"}
    }

    with pytest.raises(ConfigurationError) as caught:
        client_for(answer(status, body)).list("/v1/customers")

    assert str(status) in caught.value.message
    assert_key_hidden(caught.value)


def test_other_client_errors_are_business_errors_with_stripes_message():
    body = {"error": {"message": "No such customer: 'cus_x'", "param": "id", "type": "invalid_request_error"}}

    with pytest.raises(BusinessError) as caught:
        client_for(answer(404, body)).retrieve("/v1/customers", "cus_x")

    assert "No such customer: 'cus_x'" in caught.value.message
    assert caught.value.field == "id"
    assert_key_hidden(caught.value)


def test_an_answer_that_is_not_a_stripe_list_is_a_configuration_error():
    html = lambda request: httpx.Response(200, text="<html>login</html>")  # noqa: E731

    with pytest.raises(ConfigurationError, match="check that the base URL is Stripe's API"):
        client_for(html).list("/v1/customers")
    with pytest.raises(ConfigurationError, match="did not answer with a list"):
        client_for(answer(200, {"object": "customer", "id": "cus_1"})).list("/v1/customers")


def test_a_redirect_is_not_followed():
    redirect = answer(302, None, headers={"Location": "https://elsewhere.test/v1/customers"})

    with pytest.raises(ConfigurationError, match="redirects are not followed"):
        client_for(redirect).list("/v1/customers")


@pytest.mark.parametrize(
    "path", ["https://evil.test/v1/customers", "//evil.test/v1/x", "/v1/../admin", "/v2/customers"]
)
def test_it_only_requests_stripe_api_paths(path):
    with pytest.raises(ValueError, match="is not a Stripe API path"):
        client_for(answer(200, {})).list(path)


def test_it_quotes_ids_into_one_path_segment():
    seen = []

    def handler(request):
        seen.append(request.url.raw_path)
        return httpx.Response(200, json={"id": "x", "object": "customer"})

    client_for(handler).retrieve("/v1/customers", "../balance")

    assert seen == [b"/v1/customers/..%2Fbalance"]


def test_it_refuses_an_empty_key():
    with pytest.raises(ConfigurationError, match="no API key"):
        StripeClient(BASE, "", http_client=httpx.Client())


def test_the_client_repr_hides_the_key():
    assert KEY not in repr(StripeClient(BASE, KEY, http_client=httpx.Client()))


def _newest_first_stripe(ids: list[str]):
    """Serves `ids` newest-first, as real Stripe does, honouring limit and starting_after."""

    def handler(request):
        newest_first = list(reversed(ids))
        limit = int(request.url.params["limit"])
        after = request.url.params.get("starting_after")
        start = newest_first.index(after) + 1 if after else 0
        page = newest_first[start : start + limit]
        return httpx.Response(
            200,
            json={"object": "list", "data": [{"id": i} for i in page], "has_more": start + limit < len(ids)},
        )

    return handler


def test_list_all_pages_through_a_newest_first_list():
    ids = [f"cus_{n}" for n in range(7)]

    walked = [obj["id"] for obj in client_for(_newest_first_stripe(ids)).list_all("/v1/customers", limit=3)]

    assert walked == list(reversed(ids))


def test_list_all_stops_when_the_server_repeats_an_object():
    # localstripe restarts a list from the top when the cursor object has gone.
    repeat = answer(200, {"object": "list", "data": [{"id": "cus_1"}, {"id": "cus_2"}], "has_more": True})

    with pytest.raises(TransientError, match="listed /v1/customers inconsistently"):
        list(client_for(repeat).list_all("/v1/customers", limit=2))


def test_test_connection_reports_mode_and_currencies():
    balance = {
        "object": "balance",
        "livemode": True,
        "available": [{"amount": 0, "currency": "usd"}, {"amount": 5, "currency": "eur"}],
    }

    assert (
        client_for(answer(200, balance)).test_connection()
        == f"Stripe answered at {BASE} (live mode; balance in EUR, USD)"
    )
