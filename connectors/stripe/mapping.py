"""Stripe objects (JSON dicts) → vendor-neutral records. Pure: no database, no I/O.

Amounts arrive in the currency's minor unit (cents; yen for JPY) and leave as
Decimal in major units. Every refusal is a `MappingError` whose message names the
Stripe object and the field, for the finance analyst who reviews it.

Field names changed across Stripe API versions (`tax` / `total_tax_amounts` /
`total_taxes`, `subscription` / `parent.subscription_details`, line `price` /
`pricing`); each reader accepts every shape we have seen.

This module maps customers, the catalogue and subscriptions and dispatches by
object type; invoices and credit notes are in `_documents`, payments and refunds
in `_payments`, the payload reader in `_reader`. Import them all from here.

`version` orders revisions: the object's `updated` (products) or `created` for a
listed object; "<event created>.<event id>" for the snapshot an event carries.
Stripe objects keep no modification time, so only events order later changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from connectors.records import (
    Address,
    ContractLineRecord,
    ContractRecord,
    CustomerRecord,
    MappingError,
    PriceRecord,
    ProductRecord,
)
from connectors.stripe._documents import map_credit_note, map_invoice
from connectors.stripe._payments import map_charge, map_payment_intent, map_refund
from connectors.stripe._reader import (
    Reader,
    cadence,
    dig,
    interval_label,
    required_date,
    show,
    to_major,
    unit_amount,
    version_of,
)

__all__ = [
    "map_charge",
    "map_credit_note",
    "map_customer",
    "map_event",
    "map_invoice",
    "map_object",
    "map_payment_intent",
    "map_price",
    "map_product",
    "map_refund",
    "map_subscription",
    "to_major",
    "version_of",
]

# Stripe `object` name → the canonical object type the engine routes on.
OBJECT_TYPES = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "plan": "price",  # legacy plans share ids and meaning with prices
    "subscription": "contract",
    "invoice": "invoice",
    "payment_intent": "payment",
    "charge": "payment",
    "refund": "refund",
    "credit_note": "credit_note",
}


def _event_version(event: dict) -> str:
    """An event's snapshot is newer than any listed object of the same second:
    "<created>.<event id>" sorts after "<created>"."""
    reader = Reader(event, "event")
    created = reader.at("created")
    if isinstance(created, bool) or not isinstance(created, int):
        raise reader.fail("has no creation time", "created", expected="seconds since 1970")
    return f"{created:012d}.{reader.id()}"


# --- customers and catalogue ---------------------------------------------------------------


def map_customer(customer: dict) -> CustomerRecord:
    r = Reader(customer, "customer")
    external_id = r.id()
    # Many Stripe accounts keep the company name in `description`; an id is the last resort
    # so a customer with no name is still imported and visible, never dropped.
    name = r.text("name") or r.text("description") or r.text("email") or external_id
    return CustomerRecord(
        external_id=external_id,
        name=name,
        currency=r.currency(required=False),
        email=r.text("email"),
        address=_address(r, "address"),
        tax_id=_first_tax_id(r),
        # Reverse-charge customers are billed without tax, like exempt ones.
        tax_exempt=r.at("tax_exempt") in ("exempt", "reverse"),
        deleted=r.at("deleted") is True,
        version=version_of(customer),
    )


def _address(r: Reader, path: str) -> Address:
    return Address(
        line1=r.text(f"{path}.line1"),
        line2=r.text(f"{path}.line2"),
        city=r.text(f"{path}.city"),
        region=r.text(f"{path}.state"),
        postal_code=r.text(f"{path}.postal_code"),
        country=r.text(f"{path}.country").upper(),
    )


def _first_tax_id(r: Reader) -> str:
    # `tax_ids` is only present when the list call expanded it.
    for entry in r.at("tax_ids.data") or []:
        if isinstance(entry, dict) and isinstance(entry.get("value"), str):
            return entry["value"]
    return ""


def map_product(product: dict) -> ProductRecord:
    r = Reader(product, "product")
    external_id = r.id()
    deleted = r.at("deleted") is True
    name = r.text("name")
    if not name and not deleted:
        raise r.fail("has no name", "name", expected="text")
    return ProductRecord(
        external_id=external_id,
        name=name or external_id,
        sku=external_id,  # Stripe products have no SKU; the id is stable
        description=r.text("description"),
        active=r.at("active") is not False and not deleted,
        unit_label=r.text("unit_label"),
        version=version_of(product),
    )


def map_price(price: dict) -> PriceRecord:
    """A Stripe price, or a legacy plan (same meaning, older shape)."""
    kind = "plan" if isinstance(price, dict) and price.get("object") == "plan" else "price"
    r = Reader(price, kind)
    currency = r.currency()
    recurring = cadence(r, "")
    usage_type = r.at("usage_type" if kind == "plan" else "recurring.usage_type")
    tiered = r.at("billing_scheme") == "tiered"
    return PriceRecord(
        external_id=r.id(),
        product_external_id=r.ref("product", "product"),
        currency=currency,
        unit_amount=Decimal(0) if tiered else unit_amount(r, "", currency),
        recurring_interval=interval_label(*recurring[:2]) if recurring else None,
        usage_based=usage_type == "metered",
        tiers=_tiers(r, currency) if tiered else (),
        active=r.at("active") is not False and r.at("deleted") is not True,
        created=r.date("created"),
        version=version_of(price),
    )


def _tiers(r: Reader, currency: str) -> tuple[dict, ...]:
    tiers = r.at("tiers")
    if not isinstance(tiers, list) or not tiers:
        raise r.fail(
            "uses tiered pricing but Stripe did not include the tiers (list it with expand[]=data.tiers)",
            "tiers",
            expected="a list of tiers",
        )
    return tuple(_tier(r, f"tiers[{i}]", currency) for i in range(len(tiers)))


def _tier(r: Reader, path: str, currency: str) -> dict:
    def amount(name: str) -> Decimal:
        for field_name in (f"{name}_decimal", name):
            if r.at(f"{path}.{field_name}") is not None:
                return r.money(f"{path}.{field_name}", currency, f"tier {name.replace('_', ' ')}")
        return Decimal(0)

    up_to = r.at(f"{path}.up_to")
    if up_to == "inf":
        up_to = None
    elif up_to is not None:
        up_to = r.number(f"{path}.up_to", "tier limit")
    return {"up_to": up_to, "unit_amount": amount("unit_amount"), "flat_amount": amount("flat_amount")}


# --- subscriptions → contracts --------------------------------------------------------------

SUBSCRIPTION_STATUSES = {
    "active": "active",
    "trialing": "active",
    "past_due": "active",
    # Still in force while Stripe stops retrying or collection is paused: the contract stands.
    "unpaid": "active",
    "paused": "active",
    "canceled": "cancelled",
    "incomplete": "draft",
    "incomplete_expired": "expired",
}

BILLING_FREQUENCIES = {
    ("month", 1): "monthly",
    ("month", 3): "quarterly",
    ("year", 1): "annual",
    ("month", 12): "annual",
}


def map_subscription(subscription: dict) -> ContractRecord:
    r = Reader(subscription, "subscription")
    external_id = r.id()
    items = r.list_data("items")
    if not items:
        raise r.fail("has no items", "items.data", expected="at least one item")
    return ContractRecord(
        external_id=external_id,
        customer_external_id=r.ref("customer", "customer"),
        status=r.choice("status", SUBSCRIPTION_STATUSES, "status"),
        currency=_subscription_currency(r),
        start_date=r.date("start_date") or required_date(r, "created"),
        billing_frequency=_billing_frequency(r, len(items)),
        lines=tuple(_contract_line(r, i) for i in range(len(items))),
        # An ended subscription has `ended_at`; one set to end later has `cancel_at`.
        end_date=r.date("ended_at") or r.date("cancel_at"),
        cancelled_at=r.instant("canceled_at"),
        version=version_of(subscription),
    )


def _item_price_path(r: Reader, item_path: str) -> str:
    # Newer API versions put the price on the item; older ones only the plan. Prefer the price.
    for name in ("price", "plan"):
        if isinstance(r.at(f"{item_path}.{name}"), dict):
            return f"{item_path}.{name}"
    raise r.fail("has an item without a price or plan", f"{item_path}.price", expected="a price object")


def _subscription_currency(r: Reader) -> str:
    # Older API versions have no currency on the subscription itself, only on its prices.
    if r.at("currency") is not None:
        return r.currency()
    return r.currency(f"{_item_price_path(r, 'items.data[0]')}.currency")


def _billing_frequency(r: Reader, item_count: int) -> str:
    frequencies = {}
    for i in range(item_count):
        price_path = _item_price_path(r, f"items.data[{i}]")
        recurring = cadence(r, price_path)
        if recurring is None:
            raise r.fail("has an item with a one-time price", price_path, expected="a recurring price")
        interval, count, path = recurring
        frequency = BILLING_FREQUENCIES.get((interval, count))
        if frequency is None:
            raise r.fail(
                f"bills every {count} {interval}(s), which is not monthly, quarterly or annual",
                path,
                expected=sorted(f"{c} {i}" for i, c in BILLING_FREQUENCIES),
            )
        frequencies[frequency] = path
    if len(frequencies) > 1:
        raise r.fail(
            f"mixes billing frequencies ({', '.join(sorted(frequencies))}); a contract has one",
            "items.data",
            expected="one billing frequency",
        )
    return next(iter(frequencies))


def _contract_line(r: Reader, index: int) -> ContractLineRecord:
    path = f"items.data[{index}]"
    price_path = _item_price_path(r, path)
    currency = r.currency(f"{price_path}.currency")
    if r.at(f"{price_path}.billing_scheme") == "tiered":
        raise r.fail(
            "has an item with tiered pricing, which a contract line cannot hold as one unit price",
            f"{price_path}.billing_scheme",
            expected="per_unit",
        )
    quantity = r.number(f"{path}.quantity", "quantity")
    if quantity is None:
        if not _is_metered(r, price_path):
            raise r.fail("has an item without a quantity", f"{path}.quantity", expected="a number")
        quantity = Decimal(0)  # metered: usage is billed as reported, nothing is committed
    return ContractLineRecord(
        external_id=r.ref(f"{path}.id", "item id"),
        product_external_id=r.ref(f"{price_path}.product", "product"),
        quantity=quantity,
        unit_price=unit_amount(r, price_path, currency),
    )


def _is_metered(r: Reader, price_path: str) -> bool:
    return "metered" in (r.at(f"{price_path}.usage_type"), r.at(f"{price_path}.recurring.usage_type"))


# --- dispatch ------------------------------------------------------------------------------------

MAPPERS: dict[str, Callable[[dict], object]] = {
    "customer": map_customer,
    "product": map_product,
    "price": map_price,
    "plan": map_price,
    "subscription": map_subscription,
    "invoice": map_invoice,
    "payment_intent": map_payment_intent,
    "charge": map_charge,
    "refund": map_refund,
    "credit_note": map_credit_note,
}

# Previews, not documents: an upcoming invoice has no id and may never exist.
IGNORED_EVENT_TYPES = frozenset({"invoice.upcoming"})


def map_object(obj: dict) -> object:
    """Map any supported Stripe object by its `object` name."""
    mapper = MAPPERS.get(obj.get("object")) if isinstance(obj, dict) else None
    if mapper is None:
        raise MappingError(
            f"Stripe object {show(dig(obj, 'id'))} is a {show(dig(obj, 'object'))}, which revops does not import",
            field="object",
            expected=sorted(MAPPERS),
            actual=dig(obj, "object"),
        )
    return mapper(obj)


def map_event(event: dict) -> tuple[str, object | None]:
    """(object type, record) for the object an event carries; the record is None for
    events revops does not import (payouts, disputes, previews...). The object type is
    canonical (`OBJECT_TYPES`) when supported, else Stripe's own `object` name."""
    r = Reader(event, "event")
    obj = r.at("data.object")
    if not isinstance(obj, dict):
        raise r.fail("carries no object", "data.object", expected="an object")
    stripe_type = obj.get("object") if isinstance(obj.get("object"), str) else ""
    if stripe_type not in MAPPERS or r.at("type") in IGNORED_EVENT_TYPES:
        return OBJECT_TYPES.get(stripe_type, stripe_type), None
    record = MAPPERS[stripe_type](obj)
    changes: dict[str, Any] = {"version": _event_version(event)}
    if isinstance(r.at("type"), str) and r.at("type").endswith(".deleted"):
        changes.update(_deleted_changes(record))
    return OBJECT_TYPES[stripe_type], dataclasses.replace(record, **changes)


def _deleted_changes(record: object) -> dict[str, Any]:
    # A deleted customer is marked deleted; a deleted product or price can no longer be sold.
    if isinstance(record, CustomerRecord):
        return {"deleted": True}
    if isinstance(record, ProductRecord | PriceRecord):
        return {"active": False}
    return {}
