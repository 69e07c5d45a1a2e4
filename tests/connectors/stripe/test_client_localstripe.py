"""StripeClient against localstripe: data made through Stripe's own API, read back
page by page with `starting_after`, and mapped."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from connectors.errors import BusinessError, ConfigurationError
from connectors.records import ContractRecord, CustomerRecord, InvoiceRecord, PaymentRecord, RefundRecord
from connectors.stripe import mapping
from connectors.stripe.client import StripeClient
from tests.connectors.stripe.conftest import TEST_KEY

LISTS = (
    "/v1/customers",
    "/v1/products",
    "/v1/plans",
    "/v1/subscriptions",
    "/v1/invoices",
    "/v1/payment_intents",
    "/v1/charges",
    "/v1/refunds",
    "/v1/events",
)


def post(api: httpx.Client, path: str, **form) -> dict:
    """A form-encoded POST, as Stripe's API takes them."""
    response = api.post(path, data=form)
    assert response.is_success, response.text
    return response.json()


def card(api: httpx.Client, customer_id: str, number: str = "4242424242424242") -> str:
    method = post(
        api,
        "/v1/payment_methods",
        type="card",
        **{"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123"},
    )
    post(api, f"/v1/payment_methods/{method['id']}/attach", customer=customer_id)
    return method["id"]


def build_account(api: httpx.Client) -> dict[str, set[str]]:
    """Customers, products, plans, subscriptions (each with its paid first invoice) and
    payment intents (one paid and partly refunded, one declined). Returns the ids made."""
    made: dict[str, set[str]] = {path: set() for path in LISTS}
    customers = [
        post(api, "/v1/customers", name=f"Customer {i}", email=f"ap{i}@example.com") for i in range(5)
    ]
    made["/v1/customers"] = {c["id"] for c in customers}
    cadences = {
        "monthly": ("month", "1", "2000"),
        "quarterly": ("month", "3", "5400"),
        "annual": ("year", "1", "19900"),
    }
    for plan_id, (interval, count, amount) in cadences.items():
        plan = post(
            api,
            "/v1/plans",
            id=plan_id,
            amount=amount,
            currency="usd",
            interval=interval,
            interval_count=count,
            **{"product[name]": f"Plan {plan_id}"},
        )
        made["/v1/plans"].add(plan["id"])
        made["/v1/products"].add(plan["product"])
    for customer, plan_id in zip(customers, cadences, strict=False):
        method = card(api, customer["id"])
        post(api, f"/v1/customers/{customer['id']}", **{"invoice_settings[default_payment_method]": method})
        subscription = post(
            api,
            "/v1/subscriptions",
            customer=customer["id"],
            **{"items[0][plan]": plan_id, "items[0][quantity]": "2"},
        )
        made["/v1/subscriptions"].add(subscription["id"])
        made["/v1/invoices"].add(subscription["latest_invoice"])
    paid = _payment_intent(api, customers[3]["id"], "4242424242424242", amount="2500")
    made["/v1/refunds"].add(post(api, "/v1/refunds", payment_intent=paid, amount="500")["id"])
    declined = _payment_intent(api, customers[4]["id"], "4000000000000341", amount="1500")
    made["/v1/payment_intents"] |= {paid, declined}
    return made


def _payment_intent(api: httpx.Client, customer_id: str, number: str, *, amount: str) -> str:
    method = card(api, customer_id, number)
    intent = post(
        api, "/v1/payment_intents", amount=amount, currency="eur", customer=customer_id, payment_method=method
    )
    response = api.post(f"/v1/payment_intents/{intent['id']}/confirm")
    assert response.is_success or response.json()["error"]["code"] == "card_declined", response.text
    return intent["id"]


def page_through(
    client: StripeClient, path: str, *, limit: int = 2, params: dict | None = None
) -> list[dict]:
    """Every object of a list, following starting_after from the last object of each page."""
    objects, cursor, pages = [], None, 0
    while True:
        data, has_more = client.list(path, starting_after=cursor, limit=limit, params=params)
        assert len(data) <= limit
        objects += data
        pages += 1
        if not has_more:
            return objects
        assert pages < 100, f"{path} never stopped paging"
        cursor = data[-1]["id"]


@pytest.fixture
def client(localstripe):
    with httpx.Client(base_url=localstripe) as http:
        yield StripeClient(localstripe, TEST_KEY, http_client=http)


@pytest.fixture
def account(stripe_api):
    return build_account(stripe_api)


def test_it_pages_through_every_list_and_gets_each_object_exactly_once(client, account):
    for path in ("/v1/customers", "/v1/products", "/v1/plans", "/v1/subscriptions", "/v1/invoices"):
        ids = [obj["id"] for obj in page_through(client, path)]

        assert len(ids) == len(set(ids)), f"{path} repeated an object"
        assert set(ids) == account[path], path


def test_it_pages_payments_and_refunds(client, account):
    intents = {obj["id"] for obj in page_through(client, "/v1/payment_intents")}
    # Subscriptions pay their first invoice through a payment intent of their own.
    assert account["/v1/payment_intents"] <= intents
    charges = page_through(client, "/v1/charges", limit=3)
    assert len({c["id"] for c in charges}) == len(charges) == len(intents)
    assert {r["id"] for r in page_through(client, "/v1/refunds")} == account["/v1/refunds"]


def test_list_all_reads_the_same_objects_as_paging_by_hand(client, account):
    walked = [obj["id"] for obj in client.list_all("/v1/customers", limit=2)]

    assert sorted(walked) == sorted(account["/v1/customers"])


def test_it_lists_events_created_since_a_time(client, stripe_api, account):
    everything = page_through(client, "/v1/events", limit=5)
    since = max(event["created"] for event in everything) + 1
    while time.time() < since:  # localstripe stamps events in whole seconds
        time.sleep(0.05)
    late = post(stripe_api, "/v1/customers", name="Late customer")

    recent = page_through(client, "/v1/events", params={"created[gte]": since})

    assert [(e["type"], e["data"]["object"]["id"]) for e in recent] == [("customer.created", late["id"])]
    assert len({e["id"] for e in everything}) == len(everything)
    assert {"customer.created", "invoice.created", "payment_intent.succeeded"} <= {
        e["type"] for e in everything
    }


def test_it_maps_everything_it_listed(client, account):
    records = {path: [mapping.map_object(obj) for obj in page_through(client, path)] for path in LISTS[:-1]}

    customers = {r.external_id: r for r in records["/v1/customers"]}
    assert all(isinstance(r, CustomerRecord) for r in customers.values())
    assert customers.keys() == account["/v1/customers"]
    contracts = records["/v1/subscriptions"]
    assert all(isinstance(c, ContractRecord) and c.status == "active" for c in contracts)
    assert sorted(c.billing_frequency for c in contracts) == ["annual", "monthly", "quarterly"]
    assert {(c.lines[0].quantity, c.lines[0].unit_price) for c in contracts} == {
        (Decimal(2), Decimal("20.00")),
        (Decimal(2), Decimal("54.00")),
        (Decimal(2), Decimal("199.00")),
    }
    invoices = records["/v1/invoices"]
    assert all(isinstance(i, InvoiceRecord) and i.status == "paid" for i in invoices)
    assert sorted(i.total for i in invoices) == [Decimal("40.00"), Decimal("108.00"), Decimal("398.00")]
    assert {i.contract_external_id for i in invoices} == account["/v1/subscriptions"]
    payments = {p.external_id: p for p in records["/v1/payment_intents"]}
    assert all(isinstance(p, PaymentRecord) for p in payments.values())
    # A charge is the same payment as its intent: mapped from either, it has one key.
    assert {p.external_id for p in records["/v1/charges"]} == payments.keys()
    (refund,) = records["/v1/refunds"]
    assert isinstance(refund, RefundRecord) and refund.amount == Decimal("5.00")
    assert refund.payment_external_id in payments


def test_it_maps_the_paid_declined_and_refunded_payments(client, account):
    paid, declined = sorted(
        account["/v1/payment_intents"],
        key=lambda i: client.retrieve("/v1/payment_intents", i)["amount"],
        reverse=True,
    )

    paid_record = mapping.map_payment_intent(client.retrieve("/v1/payment_intents", paid))
    declined_record = mapping.map_payment_intent(client.retrieve("/v1/payment_intents", declined))

    assert (paid_record.status, paid_record.amount, paid_record.amount_refunded) == (
        "succeeded",
        Decimal("25.00"),
        Decimal("5.00"),
    )
    assert paid_record.currency == "EUR"
    assert (declined_record.status, declined_record.amount) == ("failed", Decimal("15.00"))


def test_it_maps_every_event_it_listed(client, account):
    mapped = [mapping.map_event(event) for event in page_through(client, "/v1/events", limit=10)]

    types = {object_type for object_type, record in mapped if record is not None}
    assert {"customer", "product", "price", "contract", "invoice", "payment"} <= types
    versions = [record.version for _, record in mapped if record is not None]
    assert len(set(versions)) == len(versions)


def test_it_retrieves_one_object(client, account):
    customer_id = sorted(account["/v1/customers"])[0]

    assert client.retrieve("/v1/customers", customer_id)["id"] == customer_id


def test_it_reports_a_missing_object_as_a_business_error_with_stripes_message(client, stripe_api):
    with pytest.raises(BusinessError) as caught:
        client.retrieve("/v1/customers", "cus_missing")

    assert "404" in caught.value.message
    assert "Not Found" in caught.value.message


def test_test_connection_describes_the_account(client):
    assert client.test_connection().startswith(f"Stripe answered at {client._base_url} (test mode")


def test_a_bad_key_is_a_configuration_error_that_does_not_show_the_key(localstripe):
    bad_key = "pk_test_not_a_secret_key_12345"
    with httpx.Client() as http:
        client = StripeClient(localstripe, bad_key, http_client=http)
        with pytest.raises(ConfigurationError) as caught:
            client.list("/v1/customers")

    assert "401" in caught.value.message
    assert bad_key not in str(caught.value)
    assert bad_key not in repr(caught.value.to_dict())
