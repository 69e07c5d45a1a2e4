"""Stripe → records mapping, on payloads Stripe and dj-stripe wrote (tests/fixtures/vendor/stripe)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from connectors.records import (
    ContractRecord,
    CreditNoteRecord,
    CustomerRecord,
    InvoiceRecord,
    MappingError,
    PaymentRecord,
    PriceRecord,
    ProductRecord,
    RefundRecord,
)
from connectors.stripe import mapping

VENDOR = Path(__file__).resolve().parents[2] / "fixtures" / "vendor" / "stripe"


@cache
def _openapi() -> dict:
    return json.loads((VENDOR / "openapi" / "fixtures3.json").read_text())["resources"]


def stripe_sample(resource: str) -> dict:
    """A fresh copy of Stripe's own sample object for `resource` (fixtures3.json)."""
    return copy.deepcopy(_openapi()[resource])


def dj_stripe(name: str) -> dict:
    return json.loads((VENDOR / f"{name}.json").read_text())


def assert_no_floats(value: object) -> None:
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            assert_no_floats(getattr(value, f.name))
    elif isinstance(value, tuple | list):
        for item in value:
            assert_no_floats(item)
    elif isinstance(value, dict):
        for item in value.values():
            assert_no_floats(item)
    else:
        assert not isinstance(value, float), value


# --- Stripe's own samples ------------------------------------------------------------------


def test_it_maps_stripes_sample_customer():
    record = mapping.map_customer(stripe_sample("customer"))

    assert isinstance(record, CustomerRecord)
    assert record.external_id == "cus_QXg1o8vcGmoR32"
    assert record.currency == "USD"
    # Stripe's sample has no name, description or email: the id keeps it visible.
    assert record.name == "cus_QXg1o8vcGmoR32"
    assert record.tax_exempt is False
    assert record.version == "001234567890"


def test_it_maps_a_customer_with_an_address_and_a_reverse_charge():
    customer = stripe_sample("customer")
    customer.update(
        name="Acme GmbH",
        email="ap@acme.example",
        tax_exempt="reverse",
        address={
            "line1": "Hauptstr. 1",
            "line2": None,
            "city": "Berlin",
            "state": "BE",
            "postal_code": "10115",
            "country": "de",
        },
    )

    record = mapping.map_customer(customer)

    assert record.name == "Acme GmbH"
    assert record.email == "ap@acme.example"
    assert record.address.country == "DE"
    assert record.address.region == "BE"
    assert record.address.line2 == ""
    assert record.tax_exempt is True


def test_it_names_a_dj_stripe_customer_from_its_description():
    record = mapping.map_customer(dj_stripe("customer_cus_6lsBvm5rJ0zyHc"))

    assert record.name == "Michael Smith"
    assert record.email == "michael.smith@example.com"


def test_it_maps_stripes_sample_product():
    record = mapping.map_product(stripe_sample("product"))

    assert record == ProductRecord(
        external_id="prod_QXg1hqf4jFNsqG",
        name="T-shirt",
        sku="prod_QXg1hqf4jFNsqG",
        description="Comfortable gray cotton t-shirt",
        active=True,
        unit_label="",
        version="001234567890",
    )


def test_it_maps_a_price_and_a_legacy_plan_alike():
    price = mapping.map_price(stripe_sample("price"))
    plan = mapping.map_price(stripe_sample("plan"))

    assert isinstance(price, PriceRecord)
    assert price.unit_amount == Decimal("20.00")
    assert price.currency == "USD"
    assert price.recurring_interval == "month"
    assert price.product_external_id == "prod_QXg1hqf4jFNsqG"
    assert dataclasses.replace(plan, created=price.created) == price


def test_it_maps_dj_stripes_gold_price_and_plan():
    assert mapping.map_price(dj_stripe("price_gold21323")) == mapping.map_price(dj_stripe("plan_gold21323"))


def test_it_maps_a_tiered_metered_plan_with_decimal_tiers():
    plan = stripe_sample("plan")
    plan.update(
        billing_scheme="tiered",
        usage_type="metered",
        amount=None,
        amount_decimal=None,
        interval_count=3,
        tiers=[
            {"up_to": 1000, "unit_amount": 5, "unit_amount_decimal": "5", "flat_amount": None},
            {"up_to": None, "unit_amount_decimal": "2.5", "flat_amount": 1000},
        ],
    )

    record = mapping.map_price(plan)

    assert record.usage_based is True
    assert record.unit_amount == Decimal(0)
    assert record.recurring_interval == "quarter"
    assert record.tiers == (
        {"up_to": Decimal(1000), "unit_amount": Decimal("0.05"), "flat_amount": Decimal(0)},
        {"up_to": None, "unit_amount": Decimal("0.025"), "flat_amount": Decimal("10.00")},
    )


def test_it_maps_stripes_sample_subscription_to_a_contract():
    record = mapping.map_subscription(stripe_sample("subscription"))

    assert isinstance(record, ContractRecord)
    assert record.external_id == "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw"
    assert record.customer_external_id == "cus_QXg1o8vcGmoR32"
    assert record.status == "active"
    assert record.currency == "USD"
    assert record.billing_frequency == "monthly"
    assert record.start_date == dt.date(2009, 2, 13)
    (line,) = record.lines
    assert line.external_id == "si_QXhVnC2h0Jczwc"
    assert line.product_external_id == "prod_QXg1hqf4jFNsqG"
    assert line.quantity == Decimal(1)
    assert line.unit_price == Decimal("20.00")


def test_it_maps_a_dj_stripe_subscription_of_two_plans_without_a_currency_field():
    record = mapping.map_subscription(dj_stripe("subscription_sub_fakefakefakefakefake0004"))

    assert record.currency == "USD"  # read from the prices: this API version has none on the subscription
    assert [(line.external_id, line.unit_price) for line in record.lines] == [
        ("si_F5uk9HMrUwrmUJ", Decimal("20.00")),
        ("si_F5uk81B1xGi3Vr", Decimal("40.00")),
    ]
    assert record.end_date is None
    assert record.cancelled_at is None


@pytest.mark.parametrize(
    ("stripe_status", "canonical"),
    [
        ("active", "active"),
        ("trialing", "active"),
        ("past_due", "active"),
        ("unpaid", "active"),
        ("canceled", "cancelled"),
        ("incomplete", "draft"),
        ("incomplete_expired", "expired"),
    ],
)
def test_it_maps_subscription_statuses(stripe_status, canonical):
    subscription = dj_stripe("subscription_sub_fakefakefakefakefake0001")
    subscription["status"] = stripe_status

    assert mapping.map_subscription(subscription).status == canonical


def _with_cadence(subscription: dict, interval: str, count: int) -> dict:
    for item in subscription["items"]["data"]:
        item["price"]["recurring"].update(interval=interval, interval_count=count)
    return subscription


@pytest.mark.parametrize(
    ("interval", "count", "frequency"),
    [("month", 1, "monthly"), ("month", 3, "quarterly"), ("year", 1, "annual")],
)
def test_it_derives_the_billing_frequency_from_the_price(interval, count, frequency):
    subscription = _with_cadence(stripe_sample("subscription"), interval, count)

    assert mapping.map_subscription(subscription).billing_frequency == frequency


def test_it_refuses_a_billing_interval_revops_has_no_frequency_for():
    subscription = _with_cadence(stripe_sample("subscription"), "week", 2)

    with pytest.raises(MappingError) as caught:
        mapping.map_subscription(subscription)

    assert str(caught.value) == (
        "Subscription sub_1Pgc6rB7WZ01zgkWNy0Cn5nw bills every 2 week(s), which is not monthly, "
        'quarterly or annual; Stripe sent items.data[0].price.recurring.interval="week"'
    )
    assert caught.value.field == "items.data[0].price.recurring.interval"
    assert caught.value.actual == "week"


def test_it_refuses_a_subscription_mixing_frequencies():
    subscription = dj_stripe("subscription_sub_fakefakefakefakefake0004")
    subscription["items"]["data"][1]["price"]["recurring"]["interval"] = "year"

    with pytest.raises(MappingError, match="mixes billing frequencies"):
        mapping.map_subscription(subscription)


# --- invoices -------------------------------------------------------------------------------------


def test_it_maps_the_inclusive_vat_invoice_with_tax_inside_the_total():
    record = mapping.map_invoice(dj_stripe("invoice_in_fakefakefakefakefake0004"))

    assert isinstance(record, InvoiceRecord)
    assert record.tax_mode == "inclusive"
    assert (record.subtotal, record.tax_total, record.total) == (
        Decimal("40.00"),
        Decimal("5.22"),
        Decimal("40.00"),
    )
    assert record.amount_paid == Decimal("40.00")
    assert record.status == "paid"
    assert record.number == "E5B23224-0002"
    assert record.customer_external_id == "cus_6lsBvm5rJ0zyHc"
    assert record.contract_external_id == "sub_fakefakefakefakefake0002"
    (line,) = record.lines
    assert (line.amount, line.tax_amount, line.tax_rate) == (Decimal("40.00"), Decimal("5.22"), Decimal(15))
    assert line.tax_jurisdiction == "Example1"
    assert line.unit_amount == Decimal("40.00")
    assert line.product_external_id == "prod_fake1"
    assert (line.period_start, line.period_end) == (dt.date(2020, 6, 27), dt.date(2020, 7, 27))


def test_it_maps_stripes_sample_draft_invoice():
    record = mapping.map_invoice(stripe_sample("invoice"))

    assert record.status == "draft"
    assert record.number == ""
    assert record.tax_mode == "exclusive"
    assert (record.subtotal, record.tax_total, record.total) == (
        Decimal("10.00"),
        Decimal("0.00"),
        Decimal("10.00"),
    )
    (line,) = record.lines
    assert line.amount == Decimal("10.00")
    assert line.unit_amount == Decimal("10.00")  # no price on the line: amount / quantity
    # parent.type is quote_details: the subscription_details beside it do not apply.
    assert record.contract_external_id is None


def test_it_refuses_an_invoice_whose_lines_stripe_did_not_send():
    with pytest.raises(MappingError) as caught:
        mapping.map_invoice(dj_stripe("invoice_in_fakefakefakefakefake0001"))

    assert caught.value.field == "lines.data"


def test_it_maps_an_invoice_with_lines_fetched_separately():
    record = mapping.map_invoice(dj_stripe("invoice_in_fakefakefakefakefake0001"), lines=[])

    # No lines, but total_tax_amounts still says the 2.61 of tax is inside the 20.00.
    assert record.tax_mode == "inclusive"
    assert record.tax_total == Decimal("2.61")
    assert record.total == Decimal("20.00")
    assert record.lines == ()


def test_it_refuses_an_invoice_with_more_lines_than_stripe_embedded():
    invoice = dj_stripe("invoice_in_fakefakefakefakefake0004")
    invoice["lines"]["has_more"] = True

    with pytest.raises(MappingError, match="fetch them all") as caught:
        mapping.map_invoice(invoice)

    assert caught.value.field == "lines.has_more"


def test_it_converts_zero_decimal_currencies_without_dividing():
    invoice = dj_stripe("invoice_in_fakefakefakefakefake0004")
    invoice["currency"] = "jpy"
    invoice["lines"]["data"][0]["currency"] = "jpy"

    record = mapping.map_invoice(invoice)

    assert record.currency == "JPY"
    assert (record.subtotal, record.tax_total, record.total) == (Decimal(4000), Decimal(522), Decimal(4000))
    assert record.lines[0].tax_amount == Decimal(522)


@pytest.mark.parametrize(
    ("currency", "major"),
    [("usd", Decimal("40.00")), ("kwd", Decimal("4.000")), ("krw", Decimal(4000)), ("isk", Decimal("40.00"))],
)
def test_it_uses_the_minor_unit_stripe_uses(currency, major):
    # ISK: Stripe keeps two decimals in its API although ISO 4217 gives it none.
    invoice = dj_stripe("invoice_in_fakefakefakefakefake0004")
    invoice["currency"] = currency

    assert mapping.map_invoice(invoice).total == major


def test_it_reads_the_2025_tax_fields():
    invoice = stripe_sample("invoice")
    invoice.update(subtotal=1000, total=1190, total_taxes=[_tax(190, "exclusive", "txr_de")])
    line = invoice["lines"]["data"][0]
    line["taxes"] = [_tax(190, "exclusive", "txr_de")]
    line["tax_rates"] = [stripe_sample("tax_rate") | {"id": "txr_de"}]

    record = mapping.map_invoice(invoice)

    assert record.tax_mode == "exclusive"
    assert record.tax_total == Decimal("1.90")
    assert record.total == Decimal("11.90")
    assert (record.lines[0].tax_amount, record.lines[0].tax_rate) == (Decimal("1.90"), Decimal(19))
    assert record.lines[0].tax_jurisdiction == "DE"


def _tax(amount: int, behavior: str, rate_id: str) -> dict:
    return {
        "amount": amount,
        "tax_behavior": behavior,
        "tax_rate_details": {"tax_rate": rate_id},
        "taxability_reason": "standard_rated",
        "taxable_amount": 1000,
        "type": "tax_rate_details",
    }


def test_it_takes_the_inclusive_mode_from_2025_tax_behavior():
    invoice = stripe_sample("invoice")
    invoice["total_taxes"] = [_tax(130, "inclusive", "txr_x")]

    assert mapping.map_invoice(invoice).tax_mode == "inclusive"


def test_it_refuses_an_invoice_mixing_inclusive_and_exclusive_tax():
    invoice = dj_stripe("invoice_in_fakefakefakefakefake0004")
    invoice["total_tax_amounts"].append({"amount": 100, "inclusive": False, "tax_rate": "txr_other"})

    with pytest.raises(MappingError, match="mixes tax-inclusive and tax-exclusive"):
        mapping.map_invoice(invoice)


def test_it_refuses_an_invoice_without_a_customer_in_words_an_analyst_reads():
    invoice = stripe_sample("invoice")
    invoice["customer"] = None

    with pytest.raises(MappingError) as caught:
        mapping.map_invoice(invoice)

    assert (
        str(caught.value) == "Invoice in_1Pgc6tB7WZ01zgkWu9fdqL6I has no customer; Stripe sent customer=null"
    )
    assert caught.value.field == "customer"
    assert caught.value.actual is None


def test_it_refuses_an_amount_that_is_not_a_number():
    invoice = dj_stripe("invoice_in_fakefakefakefakefake0004")
    invoice["lines"]["data"][0]["amount"] = "40,00"

    with pytest.raises(MappingError) as caught:
        mapping.map_invoice(invoice)

    assert str(caught.value) == (
        "Invoice in_fakefakefakefakefake0004 has an amount that is not a number; "
        'Stripe sent lines.data[0].amount="40,00"'
    )
    assert caught.value.field == "lines.data[0].amount"
    assert caught.value.expected == "a number"


@pytest.mark.parametrize("bad", [True, "NaN", "Infinity", {"value": 1}])
def test_it_refuses_other_values_that_are_not_amounts(bad):
    invoice = stripe_sample("invoice")
    invoice["total"] = bad

    with pytest.raises(MappingError, match="not a number"):
        mapping.map_invoice(invoice)


def test_it_refuses_a_currency_revops_does_not_support():
    invoice = stripe_sample("invoice")
    invoice["currency"] = "xyz"

    with pytest.raises(MappingError, match="currency revops does not support") as caught:
        mapping.map_invoice(invoice)

    assert caught.value.actual == "xyz"


def test_it_refuses_an_unknown_invoice_status():
    invoice = stripe_sample("invoice")
    invoice["status"] = "deleted"

    with pytest.raises(MappingError, match="status revops does not know") as caught:
        mapping.map_invoice(invoice)

    assert "paid" in caught.value.expected


def test_it_maps_stripes_sample_credit_note():
    record = mapping.map_credit_note(stripe_sample("credit_note"))

    assert isinstance(record, CreditNoteRecord)
    assert record.invoice_external_id == "in_1Pgc75B7WZ01zgkWYv4iMwt7"
    assert record.number == "ABCD-1234-CN-01"
    assert record.status == "issued"
    assert (record.subtotal, record.tax_total, record.total) == (
        Decimal("16.90"),
        Decimal("0.00"),
        Decimal("16.90"),
    )
    assert [line.amount for line in record.lines] == [Decimal("11.90"), Decimal("5.00")]
    assert sum(line.amount for line in record.lines) == record.total


# --- payments and refunds ---------------------------------------------------------------------


def test_it_maps_stripes_sample_payment_intent_with_a_declined_attempt_as_failed():
    record = mapping.map_payment_intent(stripe_sample("payment_intent"))

    assert isinstance(record, PaymentRecord)
    assert record.amount == Decimal("10.99")
    assert record.status == "failed"  # requires_payment_method after a last_payment_error
    assert record.method == "card"
    assert record.gateway_reference == "pi_1PgafyB7WZ01zgkWSjxsAJo3"


def test_it_maps_a_succeeded_dj_stripe_payment_intent_with_its_charge():
    record = mapping.map_payment_intent(dj_stripe("payment_intent_pi_fakefakefakefakefake0001"))

    assert record.status == "succeeded"
    assert record.amount == Decimal("20.00")
    assert record.customer_external_id == "cus_6lsBvm5rJ0zyHc"
    assert record.invoice_external_id == "in_fakefakefakefakefake0001"
    assert record.gateway_reference == "ch_fakefakefakefakefake0001"


@pytest.mark.parametrize(
    ("types", "method"),
    [
        (["card"], "card"),
        (["sepa_debit"], "direct_debit"),
        (["us_bank_account"], "direct_debit"),
        (["ach_debit"], "direct_debit"),
        (["customer_balance"], "bank_transfer"),
        (["bank_transfer"], "bank_transfer"),
        (["paypal"], "other"),
        (["card", "sepa_debit"], "other"),  # the customer chooses: Stripe has not said which yet
    ],
)
def test_it_maps_payment_method_types(types, method):
    intent = stripe_sample("payment_intent")
    intent["payment_method_types"] = types

    assert mapping.map_payment_intent(intent).method == method


def test_it_reads_the_method_that_paid_from_the_charge():
    intent = dj_stripe("payment_intent_pi_fakefakefakefakefake0001")
    intent["payment_method_types"] = ["card", "sepa_debit"]
    intent["charges"]["data"][0]["payment_method_details"] = {"type": "sepa_debit", "sepa_debit": {}}

    assert mapping.map_payment_intent(intent).method == "direct_debit"


def test_it_marks_a_fully_refunded_payment_intent_refunded():
    intent = dj_stripe("payment_intent_pi_fakefakefakefakefake0001")
    intent["charges"]["data"][0].update(amount_refunded=2000, refunded=True)

    record = mapping.map_payment_intent(intent)

    assert (record.status, record.amount_refunded) == ("refunded", Decimal("20.00"))


def test_it_maps_a_legacy_charge_as_its_own_payment():
    record = mapping.map_charge(stripe_sample("charge"))

    assert record.external_id == "ch_1PgafuB7WZ01zgkWXYmPNZs8"
    assert (record.amount, record.status, record.method) == (Decimal("1.00"), "succeeded", "card")


def test_it_maps_a_charge_of_a_payment_intent_to_the_intents_payment():
    charge = mapping.map_charge(dj_stripe("charge_ch_fakefakefakefakefake0001"))
    intent = mapping.map_payment_intent(dj_stripe("payment_intent_pi_fakefakefakefakefake0001"))

    # One payment, whichever of the two Stripe objects arrives: never counted twice.
    assert charge.external_id == intent.external_id == "pi_fakefakefakefakefake0001"
    assert charge.gateway_reference == "ch_fakefakefakefakefake0001"
    assert (charge.amount, charge.invoice_external_id) == (intent.amount, intent.invoice_external_id)


def test_it_marks_a_partly_refunded_charge_succeeded_and_a_fully_refunded_one_refunded():
    charge = stripe_sample("charge")
    charge["amount_refunded"] = 40
    assert mapping.map_charge(charge).status == "succeeded"
    charge.update(amount_refunded=100, refunded=True)
    assert mapping.map_charge(charge).status == "refunded"


def test_it_maps_stripes_sample_refund_to_the_payment_it_returns():
    record = mapping.map_refund(stripe_sample("refund"))

    assert isinstance(record, RefundRecord)
    assert record.payment_external_id == "ch_1PgafuB7WZ01zgkWXYmPNZs8"
    assert (record.amount, record.status) == (Decimal("1.00"), "succeeded")


def test_it_refuses_a_refund_linked_to_no_payment():
    refund = stripe_sample("refund")
    refund["charge"] = None

    with pytest.raises(MappingError, match="is not linked to a payment"):
        mapping.map_refund(refund)


# --- events and dispatch ------------------------------------------------------------------------


def test_it_maps_stripes_sample_event_with_the_event_as_version():
    object_type, record = mapping.map_event(stripe_sample("event"))

    assert object_type == "price"  # a plan.created event
    assert record.external_id == "price_1PgafmB7WZ01zgkW6dKueIc5"
    assert record.version == "001234567890.evt_1Pgc76B7WZ01zgkWwyRHS12y"


def test_it_orders_event_versions_after_the_listed_object_and_by_time():
    listed = mapping.map_invoice(dj_stripe("invoice_in_fakefakefakefakefake0004"))
    event = {
        "id": "evt_a",
        "object": "event",
        "type": "invoice.paid",
        "created": listed_created(),
        "data": {"object": dj_stripe("invoice_in_fakefakefakefakefake0004")},
    }
    later = event | {"id": "evt_0", "created": listed_created() + 1}

    first = mapping.map_event(event)[1].version
    second = mapping.map_event(later)[1].version

    assert listed.version < first < second


def listed_created() -> int:
    return dj_stripe("invoice_in_fakefakefakefakefake0004")["created"]


def test_it_marks_a_deleted_customer_deleted():
    event = stripe_sample("event") | {
        "type": "customer.deleted",
        "data": {"object": stripe_sample("customer")},
    }

    object_type, record = mapping.map_event(event)

    assert object_type == "customer"
    assert record.deleted is True


def test_it_returns_no_record_for_events_revops_does_not_import():
    payout = stripe_sample("event") | {"type": "payout.paid", "data": {"object": stripe_sample("payout")}}
    upcoming = stripe_sample("event") | {
        "type": "invoice.upcoming",
        "data": {"object": stripe_sample("invoice")},
    }

    assert mapping.map_event(payout) == ("payout", None)
    assert mapping.map_event(upcoming) == ("invoice", None)


def test_it_refuses_an_event_without_an_object():
    with pytest.raises(MappingError, match="carries no object"):
        mapping.map_event({"id": "evt_1", "object": "event", "type": "invoice.paid", "data": {}})


@pytest.mark.parametrize(
    ("resource", "object_type"),
    [
        ("customer", "customer"),
        ("product", "product"),
        ("price", "price"),
        ("plan", "price"),
        ("subscription", "contract"),
        ("invoice", "invoice"),
        ("payment_intent", "payment"),
        ("charge", "payment"),
        ("refund", "refund"),
        ("credit_note", "credit_note"),
    ],
)
def test_it_maps_every_sample_through_an_event_and_never_returns_floats(resource, object_type):
    event = stripe_sample("event") | {
        "type": f"{resource}.updated",
        "data": {"object": stripe_sample(resource)},
    }

    mapped_type, record = mapping.map_event(event)

    assert mapped_type == object_type
    assert record == dataclasses.replace(mapping.map_object(stripe_sample(resource)), version=record.version)
    assert_no_floats(record)


def test_it_refuses_to_map_an_object_type_it_does_not_import():
    with pytest.raises(MappingError, match="which revops does not import"):
        mapping.map_object(stripe_sample("payout"))


@pytest.mark.parametrize(
    ("interval", "count", "label"),
    [
        ("month", 1, "month"),
        ("month", 3, "quarter"),
        ("year", 1, "year"),
        ("month", 12, "year"),
        ("week", 2, "2 weeks"),
    ],
)
def test_it_names_price_intervals_as_revops_prices_do(interval, count, label):
    price = stripe_sample("price")
    price["recurring"].update(interval=interval, interval_count=count)

    assert mapping.map_price(price).recurring_interval == label


def test_it_maps_a_one_time_price_without_an_interval():
    price = stripe_sample("price") | {"recurring": None, "type": "one_time"}

    assert mapping.map_price(price).recurring_interval is None


def test_it_reads_the_method_of_a_legacy_charge_from_its_card_source():
    charge = dj_stripe("charge_ch_fakefakefakefakefake0001")
    del charge["payment_method_details"]

    assert mapping.map_charge(charge).method == "card"


@pytest.mark.parametrize(
    ("status", "canonical"),
    [("processing", "pending"), ("requires_capture", "pending"), ("canceled", "failed")],
)
def test_it_maps_payment_intent_statuses(status, canonical):
    intent = stripe_sample("payment_intent") | {"status": status, "last_payment_error": None}

    assert mapping.map_payment_intent(intent).status == canonical
