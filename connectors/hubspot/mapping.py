"""HubSpot CRM objects → `connectors.records` (pure).

- a company → CustomerRecord (HubSpot companies carry no currency: the legal
  entity's applies);
- a product → ProductRecord (SKU `hs_sku`, else the HubSpot id);
- a deal with its line items → ContractRecord. The deal payload is the CRM v3
  object with its `associations` and the line item objects under `line_items`
  (the connector reads them alongside the deal).

Deal stages: `closedwon` → an active contract starting on `closedate`;
`closedlost` → cancelled; every other stage is an open deal → a draft contract
(the connector kind imports open and lost deals only for a contract revops
already holds).
When the line items of a closed-won deal change later, the contract is amended
from the date in the deal property `revops_amendment_date` (YYYY-MM-DD) when set,
else from the day of the deal's (or its newest line item's) `hs_lastmodifieddate`.

Each failure is a MappingError naming the object, the payload path and what
HubSpot sent, e.g. "Deal 42 has no currency; HubSpot sent properties.deal_currency_code=null".
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.hubspot.countries import country_code
from connectors.records import (
    Address,
    ContractLineRecord,
    ContractRecord,
    CustomerRecord,
    MappingError,
    ProductRecord,
)
from revops.money import AMOUNT_PLACES, CURRENCY_EXPONENTS

COMPANY_PROPERTIES = [
    "name",
    "domain",
    "address",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "hs_lastmodifieddate",
]
PRODUCT_PROPERTIES = [
    "name",
    "hs_sku",
    "description",
    "price",
    "recurringbillingfrequency",
    "hs_lastmodifieddate",
]
DEAL_PROPERTIES = [
    "dealname",
    "dealstage",
    "pipeline",
    "closedate",
    "createdate",
    "amount",
    "deal_currency_code",
    "hs_lastmodifieddate",
    "revops_amendment_date",
]
LINE_ITEM_PROPERTIES = [
    "name",
    "hs_product_id",
    "quantity",
    "price",
    "recurringbillingfrequency",
    "hs_discount_percentage",
    "discount",
    "hs_lastmodifieddate",
]
DEAL_ASSOCIATIONS = ["companies", "line_items"]

WON, LOST = "closedwon", "closedlost"
FREQUENCIES = {"monthly": "monthly", "quarterly": "quarterly", "annually": "annual"}


def show(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def dig(obj: Any, path: str) -> Any:
    current = obj
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current


class Reader:
    def __init__(self, obj: Any, label: str):
        if not isinstance(obj, dict):
            raise MappingError(
                f"Expected a HubSpot {label.lower()} object; HubSpot sent {show(obj)}", actual=obj
            )
        self.obj = obj
        object_id = obj.get("id")
        self.label = f"{label} {object_id if isinstance(object_id, str) and object_id else '(without id)'}"

    def at(self, path: str) -> Any:
        return dig(self.obj, path)

    def fail(self, problem: str, path: str, *, expected: Any = None) -> MappingError:
        actual = self.at(path)
        return MappingError(
            f"{self.label} {problem}; HubSpot sent {path}={show(actual)}",
            field=path,
            expected=expected,
            actual=actual,
        )

    def id(self) -> str:
        value = self.at("id")
        if not isinstance(value, str) or not value:
            raise self.fail("has no id", "id", expected="a HubSpot id")
        return value

    def text(self, name: str) -> str:
        value = self.at(f"properties.{name}")
        return value.strip() if isinstance(value, str) else ""

    def number(self, name: str, what: str) -> Decimal | None:
        return self.number_at(f"properties.{name}", what)

    def number_at(self, path: str, what: str) -> Decimal | None:
        value = self.at(path)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(f"has {what} that is not a number", path, expected="a number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(f"has {what} that is not a number", path, expected="a number") from None
        if not number.is_finite():
            raise self.fail(f"has {what} that is not a number", path, expected="a number")
        return number

    def instant(self, name: str) -> dt.datetime | None:
        return parse_instant(self, f"properties.{name}")

    def date(self, name: str) -> dt.date | None:
        moment = self.instant(name)
        return moment.date() if moment else None


def parse_instant(r: Reader, path: str) -> dt.datetime | None:
    """HubSpot dates: ISO 8601 ("2026-03-01T10:00:00.000Z", "2026-03-01") or milliseconds since 1970."""
    value = r.at(path)
    if value is None or value == "":
        return None
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
    if text is not None and text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        moment = None
    if moment is None:
        raise r.fail("has a date HubSpot dates do not look like", path, expected="an ISO 8601 date")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def version_of(moment: dt.datetime | None) -> str:
    """Milliseconds since 1970, zero-padded so versions compare as strings."""
    return f"{int(moment.timestamp() * 1000):015d}" if moment else ""


# --- companies and products ---------------------------------------------------------------


def map_company(company: dict) -> CustomerRecord:
    r = Reader(company, "Company")
    external_id = r.id()
    name = r.text("name") or r.text("domain")
    if not name and company.get("archived") is not True:
        raise r.fail("has no name", "properties.name", expected="text")
    country = country_code(r.text("country"))
    if country is None:
        raise r.fail(
            "is in a country revops does not recognise", "properties.country", expected="a country name"
        )
    return CustomerRecord(
        external_id=external_id,
        name=name or external_id,
        currency=None,
        address=Address(
            line1=r.text("address"),
            line2=r.text("address2"),
            city=r.text("city"),
            region=r.text("state"),
            postal_code=r.text("zip"),
            country=country,
        ),
        deleted=company.get("archived") is True,
        version=version_of(r.instant("hs_lastmodifieddate")),
    )


def map_product(product: dict) -> ProductRecord:
    r = Reader(product, "Product")
    external_id = r.id()
    name = r.text("name")
    archived = product.get("archived") is True
    if not name and not archived:
        raise r.fail("has no name", "properties.name", expected="text")
    return ProductRecord(
        external_id=external_id,
        name=name or external_id,
        sku=r.text("hs_sku") or external_id,
        description=r.text("description"),
        active=not archived,
        version=version_of(r.instant("hs_lastmodifieddate")),
    )


# --- deals → contracts ---------------------------------------------------------------------


def deal_status(stage: str) -> str:
    if stage == WON:
        return "active"
    if stage == LOST:
        return "cancelled"
    return "draft"


def map_deal(deal: dict) -> ContractRecord:
    r = Reader(deal, "Deal")
    external_id = r.id()
    stage = r.text("dealstage")
    if not stage:
        raise r.fail("has no deal stage", "properties.dealstage", expected="a pipeline stage")
    status = deal_status(stage)
    currency = _currency(r)
    items = deal.get("line_items")
    if not isinstance(items, list) or not items:
        raise r.fail("has no line items; a contract needs at least one", "line_items", expected="line items")
    lines = [_line(r, i) for i in range(len(items))]
    closed = r.date("closedate")
    if status == "active" and closed is None:
        raise r.fail("is closed won without a close date", "properties.closedate", expected="a date")
    start = closed or r.date("createdate")
    if start is None:
        raise r.fail("has neither a close date nor a create date", "properties.closedate", expected="a date")
    modified = max(
        [
            m
            for m in [r.instant("hs_lastmodifieddate")] + [_item_modified(r, i) for i in range(len(items))]
            if m
        ],
        default=None,
    )
    amendment = r.date("revops_amendment_date") or (modified.date() if modified else None)
    return ContractRecord(
        external_id=external_id,
        customer_external_id=_company(r),
        status=status,
        currency=currency,
        start_date=start,
        billing_frequency=_frequency(r, len(items)),
        lines=tuple(lines),
        cancelled_at=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC) if status == "cancelled" else None,
        effective_date=amendment,
        version=version_of(modified),
        won_at=r.instant("closedate") if status == "active" else None,
    )


def _currency(r: Reader) -> str:
    path = "properties.deal_currency_code"
    value = r.at(path)
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in CURRENCY_EXPONENTS:
        problem = "has no currency" if not value else "is in a currency revops does not support"
        raise r.fail(problem, path, expected="an ISO 4217 code revops supports")
    return code


def _company(r: Reader) -> str:
    results = r.at("associations.companies.results")
    if not isinstance(results, list) or not results:
        raise r.fail(
            "is not associated with a company", "associations.companies.results", expected="a company"
        )
    # The primary company when HubSpot marks one, else the first.
    for i, entry in enumerate(results):
        if isinstance(entry, dict) and "primary" in str(entry.get("type", "")):
            return _entry_id(r, f"associations.companies.results.{i}")
    return _entry_id(r, "associations.companies.results.0")


def _entry_id(r: Reader, path: str) -> str:
    value = r.at(f"{path}.id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise r.fail("has an association without an id", f"{path}.id", expected="a HubSpot id")
    return value


def _item_modified(r: Reader, index: int) -> dt.datetime | None:
    return parse_instant(r, f"line_items.{index}.properties.hs_lastmodifieddate")


def _line(r: Reader, index: int) -> ContractLineRecord:
    path = f"line_items.{index}"
    props = f"{path}.properties"
    line_id = r.at(f"{path}.id")
    if not isinstance(line_id, str) or not line_id:
        raise r.fail("has a line item without an id", f"{path}.id", expected="a HubSpot id")
    product = r.at(f"{props}.hs_product_id")
    product = str(product).strip() if isinstance(product, str | int) and not isinstance(product, bool) else ""
    if not product:
        raise r.fail("has a line item without a product", f"{props}.hs_product_id", expected="a product id")
    quantity = r.number_at(f"{props}.quantity", "a quantity")
    if quantity is None or quantity < 0:
        raise r.fail("has a line item without a quantity", f"{props}.quantity", expected="a number ≥ 0")
    price = r.number_at(f"{props}.price", "a price")
    if price is None or price < 0:
        raise r.fail("has a line item without a unit price", f"{props}.price", expected="an amount ≥ 0")
    percent = r.number_at(f"{props}.hs_discount_percentage", "a discount percentage") or Decimal(0)
    discount = r.number_at(f"{props}.discount", "a discount") or Decimal(0)
    if not 0 <= percent <= 100 or discount < 0:
        raise r.fail(
            "has a line item discount out of range",
            f"{path}.properties.hs_discount_percentage",
            expected="0 to 100",
        )
    # HubSpot's discount is per unit: a percentage of the price, or an amount off it.
    net = price * (100 - percent) / 100 - discount
    if net < 0:
        raise r.fail(
            "has a line item discounted below zero", f"{path}.properties.discount", expected="≤ price"
        )
    if net.as_tuple().exponent < -AMOUNT_PLACES:
        net = net.quantize(Decimal(1).scaleb(-AMOUNT_PLACES))
    return ContractLineRecord(
        external_id=line_id, product_external_id=product, quantity=quantity, unit_price=net
    )


def _frequency(r: Reader, count: int) -> str:
    found: dict[str, str] = {}
    for i in range(count):
        path = f"line_items.{i}.properties.recurringbillingfrequency"
        value = r.at(path)
        if value in (None, ""):
            continue  # a one-time item rides along with the recurring ones
        frequency = FREQUENCIES.get(value)
        if frequency is None:
            raise r.fail(
                "has a line item billed at a frequency revops contracts do not have",
                path,
                expected=sorted(FREQUENCIES),
            )
        found[frequency] = path
    if not found:
        raise r.fail(
            "has no recurring line item; a contract needs a billing frequency",
            "line_items.0.properties.recurringbillingfrequency",
            expected=sorted(FREQUENCIES),
        )
    if len(found) > 1:
        raise r.fail(
            f"mixes billing frequencies ({', '.join(sorted(found))}); a contract has one",
            next(iter(found.values())),
            expected="one billing frequency",
        )
    return next(iter(found))


MAPPERS = {"company": map_company, "product": map_product, "deal": map_deal}
