"""The fake HubSpot's in-memory CRM: objects, associations, the business actions
the demo performs (open, close and amend deals), search filtering, and signed
webhook deliveries. `fake_server` serves it over HTTP."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

from connectors.hubspot.signature import signature_v3

TYPES = ("companies", "products", "deals", "line_items")
SINGULAR = {"companies": "company", "products": "product", "deals": "deal", "line_items": "line_item"}
ALWAYS = ("hs_object_id", "createdate", "hs_lastmodifieddate")


def _iso(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class Store:
    """The fake's in-memory CRM. Every method holds the lock."""

    def __init__(self, *, client_secret: str = "fake-client-secret", webhook_url: str = ""):  # noqa: S107
        self.lock = threading.RLock()
        self.client_secret = client_secret
        self.webhook_url = webhook_url
        self.send = True  # False: sign and record deliveries without sending them (tests replay them)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, dict[str, dict]] = {t: {} for t in TYPES}
            # (from type, id) → {to type: [ids]}
            self.links: dict[tuple[str, str], dict[str, list[str]]] = {}
            self.ids = itertools.count(1001)
            self.event_ids = itertools.count(1)
            self.last_ms = 0
            self.deliveries: list[dict] = []

    def now_ms(self) -> int:
        with self.lock:
            self.last_ms = max(int(time.time() * 1000), self.last_ms + 1)
            return self.last_ms

    # -- objects -------------------------------------------------------------------------

    def create(
        self, object_type: str, properties: dict[str, Any], associations: dict[str, list[str]] = ()
    ) -> dict:
        with self.lock:
            object_id = str(next(self.ids))
            ms = self.now_ms()
            props = {k: None if v is None else str(v) for k, v in properties.items()}
            props.update(hs_object_id=object_id, createdate=_iso(ms), hs_lastmodifieddate=_iso(ms))
            obj = {"id": object_id, "properties": props, "createdAt": _iso(ms), "updatedAt": _iso(ms)}
            obj["archived"] = False
            self.objects[object_type][object_id] = obj
            for to_type, ids in dict(associations or {}).items():
                for to_id in ids:
                    self.associate(object_type, object_id, to_type, str(to_id))
            return obj

    def update(self, object_type: str, object_id: str, properties: dict[str, Any]) -> dict:
        with self.lock:
            obj = self.objects[object_type][object_id]
            ms = self.now_ms()
            obj["properties"].update({k: None if v is None else str(v) for k, v in properties.items()})
            obj["properties"]["hs_lastmodifieddate"] = obj["updatedAt"] = _iso(ms)
            return obj

    def archive(self, object_type: str, object_id: str) -> dict:
        with self.lock:
            obj = self.update(object_type, object_id, {})
            obj["archived"] = True
            obj["archivedAt"] = obj["updatedAt"]
            return obj

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        with self.lock:
            for a, a_id, b, b_id in (
                (from_type, from_id, to_type, to_id),
                (to_type, to_id, from_type, from_id),
            ):
                ids = self.links.setdefault((a, a_id), {}).setdefault(b, [])
                if b_id not in ids:
                    ids.append(b_id)

    def unassociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        with self.lock:
            for a, a_id, b, b_id in (
                (from_type, from_id, to_type, to_id),
                (to_type, to_id, from_type, from_id),
            ):
                ids = self.links.get((a, a_id), {}).get(b, [])
                if b_id in ids:
                    ids.remove(b_id)

    def shape(
        self, object_type: str, obj: dict, properties: list[str] | None, associations: list[str]
    ) -> dict:
        names = list(properties or []) + list(ALWAYS)
        props = {name: obj["properties"].get(name) for name in names}
        shaped = {k: v for k, v in obj.items() if k != "properties"}
        shaped["properties"] = props
        links = {}
        for to_type in associations:
            ids = self.links.get((object_type, obj["id"]), {}).get(to_type, [])
            label = f"{SINGULAR[object_type]}_to_{SINGULAR.get(to_type, to_type)}"
            if ids:
                links[to_type] = {"results": [{"id": i, "type": label} for i in ids]}
        if links:
            shaped["associations"] = links
        return shaped

    def visible(self, object_type: str, archived: bool) -> list[dict]:
        return sorted(
            (o for o in self.objects[object_type].values() if o["archived"] == archived),
            key=lambda o: int(o["id"]),
        )

    # -- the demo's business actions -------------------------------------------------------

    def add_deal(self, spec: dict) -> dict:
        with self.lock:
            company_id = spec.get("company_id")
            if company_id is None:
                company = self.create("companies", spec.get("company") or {"name": "Unnamed Inc."})
                company_id = company["id"]
            elif str(company_id) not in self.objects["companies"]:
                raise KeyError(f"company {company_id}")
            deal = self.create(
                "deals",
                {
                    "dealname": spec.get("name", "New deal"),
                    "dealstage": spec.get("stage", "appointmentscheduled"),
                    "pipeline": "default",
                    "deal_currency_code": spec.get("currency", "USD"),
                    "closedate": spec.get("close_date"),
                },
                {"companies": [str(company_id)]},
            )
            self._set_line_items(deal["id"], spec.get("line_items") or [])
            self.update("deals", deal["id"], {"amount": self._amount(deal["id"])})
            self.send_webhook("deal.creation", deal["id"])
            return deal

    def close_deal(self, deal_id: str, *, won: bool, close_date: str | None) -> dict:
        with self.lock:
            day = close_date or dt.datetime.now(dt.UTC).date().isoformat()
            deal = self.update(
                "deals", deal_id, {"dealstage": "closedwon" if won else "closedlost", "closedate": day}
            )
            self.send_webhook("deal.propertyChange", deal_id, "dealstage", deal["properties"]["dealstage"])
            return deal

    def replace_line_items(self, deal_id: str, items: list[dict], amendment_date: str | None) -> dict:
        with self.lock:
            if deal_id not in self.objects["deals"]:
                raise KeyError(f"deal {deal_id}")
            for old in list(self.links.get(("deals", deal_id), {}).get("line_items", [])):
                self.unassociate("deals", deal_id, "line_items", old)
                self.archive("line_items", old)
            self._set_line_items(deal_id, items)
            changes = {"amount": self._amount(deal_id)}
            if amendment_date:
                changes["revops_amendment_date"] = amendment_date
            deal = self.update("deals", deal_id, changes)
            self.send_webhook("deal.propertyChange", deal_id, "amount", deal["properties"]["amount"])
            return deal

    def _set_line_items(self, deal_id: str, items: list[dict]) -> None:
        for item in items:
            product = self.objects["products"].get(str(item.get("product_id")))
            if product is None:
                raise KeyError(f"product {item.get('product_id')}")
            self.create(
                "line_items",
                {
                    "name": product["properties"].get("name"),
                    "hs_product_id": product["id"],
                    "quantity": item.get("quantity", 1),
                    "price": item.get("price", product["properties"].get("price")),
                    "recurringbillingfrequency": item.get(
                        "frequency", product["properties"].get("recurringbillingfrequency")
                    ),
                },
                {"deals": [deal_id]},
            )

    def _amount(self, deal_id: str) -> str:
        total = Decimal(0)
        for item_id in self.links.get(("deals", deal_id), {}).get("line_items", []):
            props = self.objects["line_items"][item_id]["properties"]
            total += Decimal(props.get("quantity") or 0) * Decimal(props.get("price") or 0)
        return str(total)

    def seed(self) -> dict:
        """A few companies and products, and one open deal, for the demo."""
        with self.lock:
            made = {
                "companies": [
                    self.create(
                        "companies", {"name": "Acme Robotics", "country": "United States", "city": "Austin"}
                    ),
                    self.create(
                        "companies", {"name": "Nordlicht GmbH", "country": "Germany", "city": "Hamburg"}
                    ),
                ],
                "products": [
                    self.create(
                        "products",
                        {
                            "name": "Platform seat",
                            "hs_sku": "HS-SEAT",
                            "price": "40.00",
                            "recurringbillingfrequency": "monthly",
                        },
                    ),
                    self.create(
                        "products",
                        {
                            "name": "Support plan",
                            "hs_sku": "HS-SUPPORT",
                            "price": "500.00",
                            "recurringbillingfrequency": "monthly",
                        },
                    ),
                ],
            }
            made["deals"] = [
                self.add_deal(
                    {
                        "company_id": made["companies"][0]["id"],
                        "name": "Acme Robotics platform",
                        "currency": "USD",
                        "line_items": [{"product_id": made["products"][0]["id"], "quantity": 25}],
                    }
                )
            ]
            return {k: [o["id"] for o in v] for k, v in made.items()}

    # -- webhooks --------------------------------------------------------------------------

    def send_webhook(self, subscription_type: str, object_id: str, name: str = "", value: str = "") -> dict:
        """Sign one event with v3 for the configured URL; send it when a URL is set."""
        now = self.now_ms()
        event = {
            "eventId": next(self.event_ids),
            "subscriptionId": 1,
            "portalId": 62515,
            "appId": 1,
            "occurredAt": now,
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": int(object_id),
            "changeSource": "CRM",
        }
        if name:
            event.update(propertyName=name, propertyValue=value)
        body = json.dumps([event]).encode()
        url = self.webhook_url or "http://127.0.0.1/webhooks/hubspot/"
        timestamp = str(int(time.time() * 1000))
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-Version": "v3",
            "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature-v3": signature_v3(self.client_secret, "POST", url, body, timestamp),
        }
        delivery = {"url": url, "headers": headers, "body": body.decode(), "status": None}
        self.deliveries.append(delivery)
        if self.webhook_url and self.send:
            # Sent from a thread: the receiver may call back into this server.
            threading.Thread(target=_deliver, args=(delivery,), daemon=True).start()
        return delivery


def _deliver(delivery: dict) -> None:
    request = urllib.request.Request(  # noqa: S310 (the URL an operator configured)
        delivery["url"], data=delivery["body"].encode(), headers=delivery["headers"], method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback by configuration)
            delivery["status"] = response.status
    except urllib.error.HTTPError as exc:
        delivery["status"] = exc.code
    except OSError as exc:
        delivery["status"] = f"failed: {exc}"


def value_of(obj: dict, name: str) -> Any:
    return obj["id"] if name == "hs_object_id" else obj["properties"].get(name)


def comparable(name: str, value: Any) -> Any:
    """Dates compare as milliseconds (filters send them so), numbers as numbers."""
    if value is None:
        return None
    text = str(value)
    if name in ("hs_lastmodifieddate", "createdate", "closedate") and not text.isdigit():
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return int(moment.timestamp() * 1000)
    try:
        return float(text)
    except ValueError:
        return text


def matches(obj: dict, flt: dict) -> bool:
    name = flt.get("propertyName", "")
    have = comparable(name, value_of(obj, name))
    want = comparable(name, flt.get("value"))
    operator = flt.get("operator", "EQ")
    if operator == "HAS_PROPERTY":
        return have is not None
    if have is None:
        return False
    checks = {
        "EQ": lambda: have == want,
        "NEQ": lambda: have != want,
        "GT": lambda: have > want,
        "GTE": lambda: have >= want,
        "LT": lambda: have < want,
        "LTE": lambda: have <= want,
    }
    if operator not in checks:
        raise ValueError(f"unsupported operator {operator}")
    return checks[operator]()


def sort_key(obj: dict, name: str) -> tuple:
    value = comparable(name, value_of(obj, name))
    return (value is None, value if value is not None else 0, int(obj["id"]))
