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
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.hubspot.fake_store import SINGULAR, TYPES, Store, matches, sort_key

MAX_LIMIT = 100


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
            rows = [o for o in rows if any(all(matches(o, f) for f in g.get("filters", [])) for g in groups)]
        for sort in reversed(body.get("sorts") or []):
            name = sort.get("propertyName")
            rows.sort(key=lambda o, n=name: sort_key(o, n), reverse=sort.get("direction") == "DESCENDING")
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
