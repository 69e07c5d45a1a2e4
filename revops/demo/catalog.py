"""The demo product catalog: seats, flat fees, metered usage and services,
priced in USD and EUR (EUR prices include German VAT)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from revops.demo.context import Demo, add_months, month_start
from revops.demo.names import stripe_id
from revops.models import Product
from revops.services.catalog import price_create, product_create

Cat = Product.RevenueCategory
Model = Product.PricingModel


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    category: str
    pricing_model: str
    unit_label: str
    description: str
    usd: str
    eur: str
    # A list-price rise part-way through the year: (new USD, new EUR); None keeps one price.
    new_prices: tuple[str, str] | None = None


# Subscription prices are per month; usage prices per unit; services per package or hour.
PRODUCTS: tuple[ProductSpec, ...] = (
    ProductSpec(
        "SEAT-STD",
        "Standard seat",
        Cat.SUBSCRIPTION,
        Model.PER_UNIT,
        "seat",
        "Named user, standard features, billed per month",
        "45.00",
        "42.00",
        ("49.00", "45.00"),
    ),
    ProductSpec(
        "SEAT-PRO",
        "Professional seat",
        Cat.SUBSCRIPTION,
        Model.PER_UNIT,
        "seat",
        "Named user with workflow automation and audit export, billed per month",
        "85.00",
        "79.00",
        ("89.00", "83.00"),
    ),
    ProductSpec(
        "PLAT-FEE",
        "Platform fee",
        Cat.SUBSCRIPTION,
        Model.FLAT,
        "",
        "Tenant, SSO and the integration runtime, per month",
        "1500.00",
        "1390.00",
    ),
    ProductSpec(
        "SUP-PREM",
        "Premium support",
        Cat.SUBSCRIPTION,
        Model.FLAT,
        "",
        "24×7 support with a one-hour response target, per month",
        "600.00",
        "550.00",
    ),
    ProductSpec(
        "SANDBOX",
        "Sandbox environment",
        Cat.SUBSCRIPTION,
        Model.FLAT,
        "",
        "A full copy of the tenant for testing, per month",
        "250.00",
        "230.00",
    ),
    ProductSpec(
        "API-1K",
        "API calls",
        Cat.USAGE,
        Model.USAGE,
        "1,000 API calls",
        "Metered API requests, billed monthly in arrears",
        "0.40",
        "0.37",
    ),
    ProductSpec(
        "STOR-GB",
        "Document storage",
        Cat.USAGE,
        Model.USAGE,
        "GB-month",
        "Metered storage, billed monthly in arrears",
        "0.25",
        "0.23",
    ),
    ProductSpec(
        "PS-ONB",
        "Onboarding package",
        Cat.PROFESSIONAL_SERVICES,
        Model.FLAT,
        "package",
        "Implementation, data migration and go-live support",
        "7500.00",
        "6900.00",
    ),
    ProductSpec(
        "PS-HOUR",
        "Professional services",
        Cat.PROFESSIONAL_SERVICES,
        Model.PER_UNIT,
        "hour",
        "Consulting by the hour",
        "225.00",
        "210.00",
    ),
    ProductSpec(
        "TRN-ADM",
        "Administrator training",
        Cat.ONE_TIME,
        Model.FLAT,
        "course",
        "Two-day administrator course, one attendee",
        "1200.00",
        "1100.00",
    ),
)
SUBSCRIPTION_SKUS = tuple(p.sku for p in PRODUCTS if p.category == Cat.SUBSCRIPTION)
USAGE_SKUS = tuple(p.sku for p in PRODUCTS if p.category == Cat.USAGE)
ONE_OFF_SKUS = tuple(p.sku for p in PRODUCTS if p.category in (Cat.PROFESSIONAL_SERVICES, Cat.ONE_TIME))


def catalog_dates(demo: Demo) -> tuple[dt.date, dt.date]:
    """(when the price list starts, when the seat prices rose)."""
    return dt.date(demo.today.year - 3, 1, 1), add_months(month_start(demo.today), -4)


def build_catalog(demo: Demo) -> None:
    first_day, rise_day = catalog_dates(demo)
    for spec in PRODUCTS:
        product = product_create(
            sku=spec.sku,
            name=spec.name,
            revenue_category=spec.category,
            pricing_model=spec.pricing_model,
            unit_label=spec.unit_label,
            description=spec.description,
            actor=demo.actor,
            reason="Demo data: product catalog",
        )
        demo.products[spec.sku] = product
        demo.link("stripe", "product", stripe_id(demo.rng, "prod"), product)
        for currency, amount, new_amount in (
            ("USD", spec.usd, spec.new_prices and spec.new_prices[0]),
            ("EUR", spec.eur, spec.new_prices and spec.new_prices[1]),
        ):
            book = demo.price_book.setdefault((spec.sku, currency), [])
            ends = rise_day if new_amount else None
            price = price_create(
                product=product,
                currency=currency,
                unit_amount=amount,
                active_from=first_day,
                active_to=ends,
                actor=demo.actor,
                reason="Demo data: list price",
            )
            book.append((first_day, ends, Decimal(amount)))
            demo.link("stripe", "price", stripe_id(demo.rng, "price"), price)
            if new_amount:
                price = price_create(
                    product=product,
                    currency=currency,
                    unit_amount=new_amount,
                    active_from=rise_day,
                    actor=demo.actor,
                    reason="Demo data: list price rise for new and renewing contracts",
                )
                book.append((rise_day, None, Decimal(new_amount)))
                demo.link("stripe", "price", stripe_id(demo.rng, "price"), price)
