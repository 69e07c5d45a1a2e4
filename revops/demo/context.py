"""State shared by the demo builder's steps: the seeded random source, the
reference day every date derives from, the actor, and what has been built."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models

from revops.actors import Actor
from revops.models import Customer, LegalEntity, Product, TaxMode
from revops.services.events import external_ref_link

DEFAULT_SEED = 20261115
DEFAULT_TODAY = dt.date(2026, 11, 15)
DEFAULT_CUSTOMERS = 200
DEMO_ENTITY_CODES = ("US01", "DE01")
HISTORY_MONTHS = 6  # invoices cover this many months before "today"
# US01 adds sales tax on top of its prices; DE01's prices include VAT.
TAX_MODES = {"US01": TaxMode.EXCLUSIVE, "DE01": TaxMode.INCLUSIVE}


@dataclass(frozen=True)
class DemoOptions:
    seed: int = DEFAULT_SEED
    today: dt.date = DEFAULT_TODAY
    customers: int = DEFAULT_CUSTOMERS


def demo_actor() -> Actor:
    return Actor.for_system("demo", "demo data loader")


@dataclass
class CustomerProfile:
    """A demo customer and how it behaves: where it pays tax, how it pays."""

    customer: Customer
    entity_code: str
    fate: str  # "active", "on_hold" (credit hold), "closed" (churned), "new" (draft contract only)
    size: int  # 1 (small) to 5 (large): scales seats and usage
    tax_rate: Decimal
    tax_jurisdiction: str
    tax_note: str  # printed on invoices: exemption or reverse charge
    method: str  # preferred payment method
    gateway: str
    on_stripe: bool
    punctuality: str  # "early", "on_time", "late"
    batch_payer: bool  # pays several invoices with one transfer

    @property
    def currency(self) -> str:
        return self.customer.currency

    @property
    def tax_mode(self) -> str:
        return TAX_MODES[self.entity_code]


@dataclass
class Demo:
    options: DemoOptions
    rng: random.Random
    actor: Actor
    entities: dict[str, LegalEntity] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    # (sku, currency) -> [(active_from, active_to or None, unit_amount)]
    price_book: dict[tuple[str, str], list[tuple[dt.date, dt.date | None, Decimal]]] = field(
        default_factory=dict
    )
    profiles: list[CustomerProfile] = field(default_factory=list)
    sequences: Counter = field(default_factory=Counter)

    @property
    def today(self) -> dt.date:
        return self.options.today

    @property
    def window_start(self) -> dt.date:
        """The first issue date of the invoice history."""
        return add_months(self.today, -HISTORY_MONTHS)

    def next_number(self, kind: str, scope: str = "") -> int:
        self.sequences[(kind, scope)] += 1
        return self.sequences[(kind, scope)]

    def link(self, system: str, object_type: str, external_id: str, target: models.Model) -> None:
        external_ref_link(
            system=system,
            object_type=object_type,
            external_id=external_id,
            target=target,
            actor=self.actor,
            reason=f"Demo data: {system} id of this {object_type.replace('_', ' ')}",
        )

    def list_price(self, sku: str, currency: str, day: dt.date) -> Decimal:
        for start, end, amount in self.price_book[(sku, currency)]:
            if start <= day and (end is None or day < end):
                return amount
        raise LookupError(f"No {currency} price for {sku} on {day}.")


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def long_date(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"
