"""Writes for products and prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import Price, Product
from revops.models.base import stamp
from revops.money import MoneyError, check_currency, to_decimal
from revops.services._common import UpdateResult, changed_fields, clean_fields, reject_unknown
from revops.services.ownership import guard_changes


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    revenue_category: str,
    pricing_model: str,
    unit_label: str = "",
    description: str = "",
    actor: Actor,
    reason: str = "Product created",
) -> Product:
    product = Product(
        sku=sku.strip(),
        name=name.strip(),
        revenue_category=revenue_category,
        pricing_model=pricing_model,
        unit_label=unit_label.strip(),
        description=description,
    )
    clean_fields(product)
    stamp(product, actor, reason)
    product.save()
    return product


def _validate_tiers(tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned, previous = [], Decimal(0)
    for index, tier in enumerate(tiers):
        up_to = tier.get("up_to")
        try:
            amount = to_decimal(tier["unit_amount"])
        except (KeyError, MoneyError) as exc:
            raise field_error("tiers", f"Tier {index + 1} needs a decimal unit_amount ({exc}).") from None
        if amount < 0:
            raise field_error("tiers", f"Tier {index + 1} has a negative unit amount.")
        if up_to is None:
            if index != len(tiers) - 1:
                raise field_error("tiers", "Only the last tier may be open-ended (up_to empty).")
        else:
            up_to = to_decimal(up_to)
            if up_to <= previous:
                raise field_error("tiers", f"Tier {index + 1}'s up_to must be above the previous tier's.")
            previous = up_to
        cleaned.append({"up_to": None if up_to is None else str(up_to), "unit_amount": str(amount)})
    return cleaned


@transaction.atomic
def price_create(
    *,
    product: Product,
    currency: str,
    unit_amount: Decimal | str,
    active_from: dt.date,
    active_to: dt.date | None = None,
    tiers: list[dict[str, Any]] | None = None,
    billing_interval: str = "",
    actor: Actor,
    reason: str = "Price created",
) -> Price:
    """A price of `product` in `currency`. Prices of one product, currency and
    billing interval may not overlap in time (monthly and yearly prices may)."""
    try:
        check_currency(currency)
        amount = to_decimal(unit_amount)
    except MoneyError as exc:
        raise DomainValidationError({"unit_amount": [str(exc)]}) from None
    if amount < 0:
        raise field_error("unit_amount", "A price cannot be negative.")
    if active_to is not None and active_to <= active_from:
        raise field_error("active_to", "The price must end after it starts.")
    if product.pricing_model == Product.PricingModel.TIERED and not tiers:
        raise field_error("tiers", "A tiered product's price needs its tiers.")
    if billing_interval not in Price.Interval.values:
        raise field_error("billing_interval", f"Unknown billing interval {billing_interval!r}.")
    overlapping = Price.objects.filter(
        product=product,
        currency=currency,
        billing_interval=billing_interval,
        active_from__lt=active_to or dt.date.max,
    )
    overlapping = overlapping.exclude(active_to__isnull=False, active_to__lte=active_from)
    if overlapping.exists():
        raise field_error("active_from", f"{product.sku} already has a {currency} price in that date range.")
    price = Price(
        product=product,
        currency=currency,
        billing_interval=billing_interval,
        unit_amount=amount,
        active_from=active_from,
        active_to=active_to,
        tiers=_validate_tiers(tiers or []),
    )
    clean_fields(price, exclude=["product"])
    stamp(price, actor, reason)
    price.save()
    return price


PRODUCT_EDITABLE = ("name", "description", "active", "unit_label")


@transaction.atomic
def product_update(*, product: Product, changes: dict[str, Any], actor: Actor, reason: str) -> UpdateResult:
    """Apply changes to a product's descriptive fields."""

    reject_unknown(changes, PRODUCT_EDITABLE, "Product")
    product = Product.objects.select_for_update().get(pk=product.pk)
    wanted = changed_fields(product, changes)
    if not wanted:
        return UpdateResult(product)
    guard = guard_changes(instance=product, object_type="product", changes=wanted, actor=actor, reason=reason)
    if not guard.allowed:
        return UpdateResult(product, refused=guard.refused)
    for name, value in guard.allowed.items():
        setattr(product, name, value)
    clean_fields(product)
    stamp(product, actor, reason)
    product.save()
    return UpdateResult(product, changed=sorted(guard.allowed), refused=guard.refused)
