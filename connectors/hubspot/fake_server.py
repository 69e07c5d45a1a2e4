"""A local stand-in for HubSpot's CRM v3 API, for tests and the demo.

    python -m connectors.hubspot.fake_server --port 8430 [--token pat-local-demo]
        [--client-secret ...] [--webhook-url http://127.0.0.1:8000/webhooks/hubspot-local/] [--seed]

It binds 127.0.0.1 only and keeps everything in memory (nothing survives a
restart). It serves the documented shapes this connector reads:
- `GET /crm/v3/objects/<type>?limit=&after=&properties=&associations=&archived=`
  (`paging.next.after`), `GET /crm/v3/objects/<type>/<id>`,
- `POST /crm/v3/objects/<type>/search` (filters EQ/NEQ/GT/GTE/LT/LTE, sorts,
  `after`, `total`; results carry no associations, as HubSpot's),
- `POST /crm/v3/objects/<type>/batch/read`, `POST` create and `PATCH` update,
for companies, products, deals and line items, behind `Authorization: Bearer <token>`.

Control endpoints (no token), for tests and the demo:
- `POST /_fake/reset` empties the store; `POST /_fake/seed` loads a few objects;
- `POST /_fake/webhook` {"url", "client_secret", "send"} sets where signed webhooks
  go (`"send": false` signs and records them without sending);
- `POST /_fake/deals` {"company": {name, country, ...} | "company_id", "name",
  "currency", "stage", "close_date", "line_items": [{"product_id", "quantity",
  "price", "frequency"}]} creates a deal with its associations;
- `POST /_fake/deals/<id>/close` {"won": true, "close_date": "YYYY-MM-DD"} moves
  it to closedwon (or closedlost);
- `POST /_fake/deals/<id>/line_items` {"line_items": [...], "amendment_date"}
  replaces its line items (as a sales rep amending a won deal);
- `GET /_fake/webhooks` lists every webhook delivery made (url, headers, body,
  status), so a test can replay them.

A change to a deal or its line items moves the deal's `hs_lastmodifieddate`
(every change gets a later millisecond than the one before), and sends a
`deal.propertyChange` webhook signed with v3 to the configured URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.hubspot.signature import signature_v3

TYPES = ("companies", "products", "deals", "line_items")
SINGULAR = {"companies": "company", "products": "product", "deals": "deal", "line_items": "line_item"}
ALWAYS = ("hs_object_id", "createdate", "hs_lastmodifieddate")
MAX_LIMIT = 100


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


# -- HTTP -------------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server: FakeHubSpotServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        if self.server.verbose:
            super().log_message(format, *args)

    # plumbing
    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, category: str = "VALIDATION_ERROR") -> None:
        self._send(status, {"status": "error", "message": message, "category": category})

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.server.token}":
            return True
        self._error(401, "Authentication credentials not found.", "INVALID_AUTHENTICATION")
        return False

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            body = self._body() if method in ("POST", "PATCH") else {}
        except ValueError:
            return self._error(400, "Invalid JSON body.")
        store = self.server.store
        try:
            with store.lock:
                if parts[:1] == ["_fake"]:
                    return self._control(method, parts[1:], body)
                if parts[:3] != ["crm", "v3", "objects"] or len(parts) < 4 or parts[3] not in TYPES:
                    return self._error(404, f"No route for {method} {url.path}.", "OBJECT_NOT_FOUND")
                if not self._authorized():
                    return None
                return self._objects(method, parts[3], parts[4:], query, body)
        except KeyError as exc:
            return self._error(404, f"Not found: {exc.args[0]}", "OBJECT_NOT_FOUND")
        except (TypeError, ValueError) as exc:
            return self._error(400, f"Invalid input: {exc}")

    def _objects(self, method: str, object_type: str, rest: list[str], query: dict, body: Any) -> None:
        store = self.server.store
        properties = [p for p in query.get("properties", "").split(",") if p]
        associations = [a for a in query.get("associations", "").split(",") if a]
        archived = query.get("archived") == "true"
        if method == "GET" and not rest:
            limit = int(query.get("limit", 10))
            if not 1 <= limit <= MAX_LIMIT:
                return self._error(400, f"limit must be between 1 and {MAX_LIMIT}")
            after = int(query.get("after") or 0)
            rows = [o for o in store.visible(object_type, archived) if int(o["id"]) > after]
            page = rows[:limit]
            body = {"results": [store.shape(object_type, o, properties, associations) for o in page]}
            if len(rows) > limit:
                body["paging"] = {"next": {"after": page[-1]["id"], "link": f"?after={page[-1]['id']}"}}
            return self._send(200, body)
        if method == "GET" and len(rest) == 1:
            obj = store.objects[object_type][rest[0]]
            if obj["archived"] and not archived:
                raise KeyError(f"{SINGULAR[object_type]} {rest[0]}")
            return self._send(200, store.shape(object_type, obj, properties, associations))
        if method == "POST" and rest == ["search"]:
            return self._search(object_type, body)
        if method == "POST" and rest == ["batch", "read"]:
            ids = [str(i.get("id")) for i in body.get("inputs", [])]
            found = [store.objects[object_type][i] for i in ids if i in store.objects[object_type]]
            results = [store.shape(object_type, o, body.get("properties") or [], []) for o in found]
            return self._send(200, {"status": "COMPLETE", "results": results})
        if method == "POST" and not rest:
            links = {}
            for entry in body.get("associations") or []:
                to_type = entry.get("to_type") or "companies"
                links.setdefault(to_type, []).append(str(entry["to"]["id"]))
            obj = store.create(object_type, body.get("properties") or {}, links)
            return self._send(201, store.shape(object_type, obj, list(obj["properties"]), []))
        if method == "PATCH" and len(rest) == 1:
            obj = store.update(object_type, rest[0], body.get("properties") or {})
            if object_type == "deals":
                store.send_webhook("deal.propertyChange", rest[0])
            return self._send(200, store.shape(object_type, obj, list(obj["properties"]), []))
        return self._error(404, f"No route for {method} {self.path}.", "OBJECT_NOT_FOUND")

    def _search(self, object_type: str, body: dict) -> None:
        store = self.server.store
        rows = store.visible(object_type, False)
        groups = body.get("filterGroups") or []
        if groups:
            rows = [o for o in rows if any(all(_matches(o, f) for f in g.get("filters", [])) for g in groups)]
        for sort in reversed(body.get("sorts") or []):
            name = sort.get("propertyName")
            rows.sort(key=lambda o, n=name: _sort_key(o, n), reverse=sort.get("direction") == "DESCENDING")
        limit = int(body.get("limit", 10))
        if not 1 <= limit <= MAX_LIMIT:
            return self._error(400, f"limit must be between 1 and {MAX_LIMIT}")
        offset = int(body.get("after") or 0)
        if offset >= 10_000:
            return self._error(400, "Search results are limited to 10,000; narrow the filter.")
        page = rows[offset : offset + limit]
        answer = {
            "total": len(rows),
            "results": [store.shape(object_type, o, body.get("properties") or [], []) for o in page],
        }
        if offset + limit < len(rows):
            answer["paging"] = {"next": {"after": str(offset + limit)}}
        return self._send(200, answer)

    def _control(self, method: str, parts: list[str], body: Any) -> None:
        store = self.server.store
        if method == "POST" and parts == ["reset"]:
            store.reset()
            return self._send(200, {"status": "reset"})
        if method == "POST" and parts == ["seed"]:
            return self._send(201, store.seed())
        if method == "POST" and parts == ["webhook"]:
            store.webhook_url = body.get("url", "")
            store.client_secret = body.get("client_secret", store.client_secret)
            store.send = body.get("send", True) is not False
            return self._send(200, {"url": store.webhook_url})
        if method == "GET" and parts == ["webhooks"]:
            return self._send(200, {"results": store.deliveries})
        if method == "POST" and parts == ["deals"]:
            deal = store.add_deal(body)
            return self._send(
                201, store.shape("deals", deal, list(deal["properties"]), ["companies", "line_items"])
            )
        if method == "POST" and len(parts) == 3 and parts[0] == "deals" and parts[2] == "close":
            deal = store.close_deal(
                parts[1], won=body.get("won", True) is not False, close_date=body.get("close_date")
            )
            return self._send(200, store.shape("deals", deal, list(deal["properties"]), []))
        if method == "POST" and len(parts) == 3 and parts[0] == "deals" and parts[2] == "line_items":
            deal = store.replace_line_items(
                parts[1], body.get("line_items") or [], body.get("amendment_date")
            )
            return self._send(200, store.shape("deals", deal, list(deal["properties"]), ["line_items"]))
        return self._error(404, f"No control route for {method} /_fake/{'/'.join(parts)}.")


def _value(obj: dict, name: str) -> Any:
    return obj["id"] if name == "hs_object_id" else obj["properties"].get(name)


def _comparable(name: str, value: Any) -> Any:
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


def _matches(obj: dict, flt: dict) -> bool:
    name = flt.get("propertyName", "")
    have = _comparable(name, _value(obj, name))
    want = _comparable(name, flt.get("value"))
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


def _sort_key(obj: dict, name: str) -> tuple:
    value = _comparable(name, _value(obj, name))
    return (value is None, value if value is not None else 0, int(obj["id"]))


class FakeHubSpotServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        port: int = 0,
        *,
        token: str = "pat-local-demo",  # noqa: S107 (the fake's published demo token)
        verbose: bool = False,
        **store_options,
    ):
        self.token = token
        self.verbose = verbose
        self.store = Store(**store_options)
        super().__init__(("127.0.0.1", port), Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="fake-hubspot", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local fake of HubSpot's CRM v3 API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8430)
    parser.add_argument("--token", default="pat-local-demo", help="the private app token it accepts")
    parser.add_argument("--client-secret", default="fake-client-secret", help="signs webhooks (v3)")
    parser.add_argument("--webhook-url", default="", help="where to send signed webhooks")
    parser.add_argument("--seed", action="store_true", help="start with a few companies, products and a deal")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server = FakeHubSpotServer(
        args.port,
        token=args.token,
        verbose=args.verbose,
        client_secret=args.client_secret,
        webhook_url=args.webhook_url,
    )
    if args.seed:
        server.store.seed()
    print(f"fake HubSpot listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
