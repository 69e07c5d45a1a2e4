"""Reading Stripe payloads: paths, amounts in minor units, timestamps, prices.

Every failure is a `MappingError` naming the Stripe object, the field and what
Stripe sent, e.g. "Invoice in_123 has no customer; Stripe sent customer=null".
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.records import MappingError
from revops.money import CURRENCY_EXPONENTS

# Stripe keeps ISK as a two-decimal currency in its API (100 = 1 króna) although
# ISO 4217 gives it no minor unit; every other currency we support follows ISO.
STRIPE_EXPONENT_OVERRIDES = {"ISK": 2}

LABELS = {
    "customer": "Customer",
    "product": "Product",
    "price": "Price",
    "plan": "Plan",
    "subscription": "Subscription",
    "invoice": "Invoice",
    "payment_intent": "Payment",
    "charge": "Charge",
    "refund": "Refund",
    "credit_note": "Credit note",
    "event": "Event",
}

PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def dig(obj: Any, path: str) -> Any:
    """Value at a dotted path like "lines.data[0].amount"; None when any step is missing."""
    current = obj
    for name, index in PATH_PART.findall(path):
        if name:
            current = current.get(name) if isinstance(current, dict) else None
        else:
            position = int(index)
            current = current[position] if isinstance(current, list) and position < len(current) else None
        if current is None:
            return None
    return current


def show(value: Any) -> str:
    """How a payload value reads in a message: JSON, so null/strings/numbers look as Stripe sent them."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def id_of(value: Any) -> str | None:
    """Stripe references are an id string, or the object itself when expanded."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
        return value["id"]
    return None


class Reader:
    """Reads one Stripe object; every failure names it, the field and what Stripe sent."""

    def __init__(self, obj: Any, kind: str):
        if not isinstance(obj, dict):
            raise MappingError(
                f"Expected a Stripe {kind} object; Stripe sent {show(obj)}", expected="object", actual=obj
            )
        self.obj = obj
        self.label = f"{LABELS.get(kind, kind)} {obj.get('id') or '(without id)'}"

    def at(self, path: str) -> Any:
        return dig(self.obj, path)

    def fail(self, problem: str, path: str, *, expected: Any = None) -> MappingError:
        actual = self.at(path)
        return MappingError(
            f"{self.label} {problem}; Stripe sent {path}={show(actual)}",
            field=path,
            expected=expected,
            actual=actual,
        )

    def id(self) -> str:
        return self.ref("id", "id")

    def ref(self, path: str, what: str) -> str:
        found = id_of(self.at(path))
        if found is None:
            raise self.fail(f"has no {what}", path, expected=f"a Stripe {what} id")
        return found

    def text(self, path: str) -> str:
        value = self.at(path)
        return value if isinstance(value, str) else ""

    def currency(self, path: str = "currency", *, required: bool = True) -> str | None:
        value = self.at(path)
        if value is None and not required:
            return None
        code = value.upper() if isinstance(value, str) else None
        if code not in CURRENCY_EXPONENTS:
            problem = "has no currency" if value is None else "is in a currency revops does not support"
            raise self.fail(problem, path, expected="an ISO 4217 code revops supports")
        return code

    def number(self, path: str, what: str) -> Decimal | None:
        """A plain number (quantity, percentage) as Decimal; None when absent."""
        value = self.at(path)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(f"has {_a(what)} that is not a number", path, expected="a number")
        try:
            # str() first: a float such as 4.25 becomes exactly 4.25, not its binary neighbour.
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(f"has {_a(what)} that is not a number", path, expected="a number") from None
        if not number.is_finite():
            raise self.fail(f"has {_a(what)} that is not a number", path, expected="a number")
        return number

    def money(self, path: str, currency: str, what: str = "amount") -> Decimal:
        """A required amount in minor units → Decimal in major units."""
        minor = self.number(path, what)
        if minor is None:
            raise self.fail(f"has no {what}", path, expected="an amount in minor units")
        return to_major(minor, currency)

    def money_or_zero(self, path: str, currency: str, what: str = "amount") -> Decimal:
        return to_major(Decimal(0), currency) if self.at(path) is None else self.money(path, currency, what)

    def money_sum(self, paths: list[str], currency: str, what: str = "amount") -> Decimal:
        """Sum of the amounts at `paths`, at the currency's scale even when there are none."""
        return sum((self.money(path, currency, what) for path in paths), to_major(Decimal(0), currency))

    def date(self, path: str) -> dt.date | None:
        moment = self.instant(path)
        return moment.date() if moment else None

    def instant(self, path: str) -> dt.datetime | None:
        value = self.at(path)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail("has a date that is not a Unix timestamp", path, expected="seconds since 1970")
        # Stripe timestamps are UTC; business dates are taken in UTC too.
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)

    def choice(self, path: str, table: dict[str, str], what: str) -> str:
        value = self.at(path)
        if value not in table:
            raise self.fail(f"has a {what} revops does not know", path, expected=sorted(table))
        return table[value]

    def list_data(self, path: str) -> list[dict]:
        """The `data` of an embedded Stripe list, refusing a partial one."""
        listing = self.at(path)
        data = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(data, list):
            raise self.fail(f"came without its {path}", f"{path}.data", expected="a list")
        if listing.get("has_more"):
            raise self.fail(
                f"has more {path} than Stripe included; fetch them all before mapping",
                f"{path}.has_more",
                expected=False,
            )
        return data


def _a(noun: str) -> str:
    # "an amount", "a unit amount": the few nouns used here start with a sounded vowel or not.
    return f"an {noun}" if noun[:1] in "aeio" else f"a {noun}"


def to_major(minor: Decimal, currency: str) -> Decimal:
    """Minor units → major units, exactly (4000 USD cents → 40.00; 4000 JPY → 4000)."""
    exponent = STRIPE_EXPONENT_OVERRIDES.get(currency, CURRENCY_EXPONENTS[currency])
    return minor.scaleb(-exponent)


def version_of(obj: dict) -> str:
    """Orders revisions of an object read from a list: its `updated` when Stripe
    keeps one (products), else `created`. Zero-padded so strings compare as numbers."""
    stamp = obj.get("updated") or obj.get("created")
    return f"{stamp:012d}" if isinstance(stamp, int) and not isinstance(stamp, bool) else ""


def join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def cadence(r: Reader, prefix: str) -> tuple[str, int, str] | None:
    """(interval, interval_count, path of interval) of the price or plan at `prefix`;
    None for a one-time price."""
    is_plan = r.at(join(prefix, "object")) == "plan" or r.at(join(prefix, "interval")) is not None
    base = prefix if is_plan else join(prefix, "recurring")
    interval_path = join(base, "interval")
    interval = r.at(interval_path)
    if interval is None:
        return None
    count = r.number(join(base, "interval_count"), "billing interval count")
    if count is None:
        count = Decimal(1)
    if count != count.to_integral_value() or count < 1:
        raise r.fail("has a billing interval count that is not a whole number", join(base, "interval_count"))
    return str(interval), int(count), interval_path


# Stripe (interval, interval_count) → PriceRecord.recurring_interval. The record has no
# count, so a quarterly price is "quarter" (revops prices know month, quarter, year).
RECURRING_INTERVALS = {
    ("month", 1): "month",
    ("month", 3): "quarter",
    ("month", 12): "year",
    ("year", 1): "year",
}


def interval_label(interval: str, count: int) -> str:
    """The price's billing interval; a cadence revops has no name for reads "2 weeks"
    rather than being mistaken for a monthly one."""
    return RECURRING_INTERVALS.get((interval, count)) or (interval if count == 1 else f"{count} {interval}s")


def unit_amount_path(r: Reader, prefix: str) -> str | None:
    """Where the unit amount of the price or plan at `prefix` is; the *_decimal field
    keeps sub-cent precision, so it wins. None when Stripe sent neither."""
    is_plan = r.at(join(prefix, "object")) == "plan"
    for name in ("amount_decimal", "amount") if is_plan else ("unit_amount_decimal", "unit_amount"):
        if r.at(join(prefix, name)) is not None:
            return join(prefix, name)
    return None


def unit_amount(r: Reader, prefix: str, currency: str) -> Decimal:
    path = unit_amount_path(r, prefix)
    if path is None:
        name = "amount" if r.at(join(prefix, "object")) == "plan" else "unit_amount"
        raise r.fail("has no unit amount", join(prefix, name), expected="an amount in minor units")
    return r.money(path, currency, "unit amount")


def required_date(r: Reader, path: str) -> dt.date:
    found = r.date(path)
    if found is None:
        raise r.fail("has no date", path, expected="seconds since 1970")
    return found
