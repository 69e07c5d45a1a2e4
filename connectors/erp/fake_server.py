"""A fake NetSuite REST record API for tests and the demo, with switchable faults.

    python -m connectors.erp.fake_server --port 8430 [--max-seconds N]

A threading HTTP server on 127.0.0.1 that keeps records in memory and answers in
NetSuite's shapes: POST /services/rest/record/v1/<type> → 204 with Location;
GET|PUT …/<type>/eid:<externalId> (read, upsert); GET …/<type>/<id>; GET …/<type>
(a collection). Like NetSuite, a second record with an external id its type
already holds is refused (DUP_RCRD) unless `unique_external_ids` is switched off,
which the exactly-once test does so that a duplicate post would show.

Faults (`POST /_control` with JSON; `GET /_control` returns the state and counts):
    {"fault": "none"}                                   normal service
    {"fault": "500"}                                    500 with an UNEXPECTED_ERROR body
    {"fault": "429", "retry_after": 2}                  429 CONCURRENCY_LIMIT_EXCEEDED + Retry-After
    {"fault": "hang", "hang_seconds": 3}                commit, then answer only after hang_seconds
    {"fault": "drop"}                                   commit, then close without answering
    {"fault": "reject", "code": "USER_ERROR", "message": "...", "path": "...", "match": {dotted path: value}}
                                                        400 with o:errorDetails (only bodies matching `match`)
plus "probability" (0–1, default 1) and "count" (faults left; absent: unlimited).
Faults apply to writes (POST/PUT) unless "reads": true. `POST /_control/reset` forgets every record.
Authorization must be an OAuth header (its signature is not checked).
Each request's method, path and `X-Correlation-ID` header are kept (the last
1,000, in `FakeErp.received`; `GET /_control` lists the last 50), so a test can see
which flow a posting was sent for.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

RECORD_PREFIX = "/services/rest/record/v1/"
RECEIVED_KEPT = 1000
_RECORD = re.compile(r"^/services/rest/record/v1/(?P<type>[A-Za-z]+)(?:/(?P<key>[^/?]+))?$")


def _problem(status: int, code: str, detail: str, path: str = "") -> dict[str, Any]:
    entry = {"detail": detail, "o:errorCode": code}
    if path:
        entry["o:errorPath"] = path
    titles = {400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}
    return {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15",
        "title": titles.get(status, "Error"),
        "status": status,
        "o:errorDetails": [entry],
    }


def _at(body: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(body, list):
            try:
                body = body[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(body, dict):
            body = body.get(part)
        else:
            return None
    return body


class FakeErp:
    """The state behind the server: records, faults and counters (thread-safe)."""

    def __init__(self, *, seed: int | None = None):
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.records: dict[str, dict[str, dict[str, Any]]] = {}
            self.by_external_id: dict[str, dict[str, str]] = {}
            self.next_id = 1000
            self.fault: dict[str, Any] = {"fault": "none"}
            self.unique_external_ids = True
            self.counts = {"requests": 0, "created": 0, "updated": 0, "faults": 0, "dropped": 0}
            self.idempotency_keys: list[str] = []
            self.received: list[dict[str, Any]] = []

    def receive(self, method: str, path: str, headers) -> None:
        with self.lock:
            self.received.append(
                {"method": method, "path": path, "correlation_id": headers.get("X-Correlation-ID")}
            )
            del self.received[:-RECEIVED_KEPT]

    def control(self, body: dict[str, Any]) -> None:
        with self.lock:
            if "unique_external_ids" in body:
                self.unique_external_ids = bool(body["unique_external_ids"])
            if "fault" in body:
                self.fault = dict(body)

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "fault": self.fault,
                "unique_external_ids": self.unique_external_ids,
                "counts": dict(self.counts),
                "records": {t: len(rs) for t, rs in self.records.items()},
                "received": self.received[-50:],
            }

    def take_fault(self, method: str, body: Any) -> dict[str, Any] | None:
        """The fault to apply to this request, if any (consumes one of `count`)."""
        with self.lock:
            self.counts["requests"] += 1
            fault = self.fault
            if fault.get("fault", "none") == "none":
                return None
            if method not in ("POST", "PUT") and not fault.get("reads"):
                return None
            for path, value in (fault.get("match") or {}).items():
                if _at(body, path) != value:
                    return None
            if self.random.random() >= float(fault.get("probability", 1)):
                return None
            if "count" in fault:
                if fault["count"] <= 0:
                    return None
                fault["count"] -= 1
            self.counts["faults"] += 1
            return dict(fault)

    def create(self, record_type: str, body: dict[str, Any]) -> tuple[str | None, dict | None]:
        """(internal id, None) or (None, problem) for a duplicate external id."""
        with self.lock:
            external_id = body.get("externalId")
            index = self.by_external_id.setdefault(record_type, {})
            if external_id and external_id in index and self.unique_external_ids:
                return None, _problem(
                    400, "DUP_RCRD", f"A {record_type} record with external ID {external_id} already exists."
                )
            self.next_id += 1
            internal_id = str(self.next_id)
            self.records.setdefault(record_type, {})[internal_id] = {**body, "id": internal_id}
            if external_id:
                index.setdefault(external_id, internal_id)
            self.counts["created"] += 1
            return internal_id, None

    def upsert(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        with self.lock:
            index = self.by_external_id.setdefault(record_type, {})
            internal_id = index.get(external_id)
            if internal_id is None:
                self.next_id += 1
                internal_id = str(self.next_id)
                index[external_id] = internal_id
                self.records.setdefault(record_type, {})[internal_id] = {}
                self.counts["created"] += 1
            else:
                self.counts["updated"] += 1
            record = self.records[record_type][internal_id]
            record.update(body)
            record.update({"id": internal_id, "externalId": external_id})
            return internal_id

    def get(self, record_type: str, key: str) -> dict[str, Any] | None:
        with self.lock:
            if key.startswith("eid:"):
                key = self.by_external_id.get(record_type, {}).get(key[4:], "")
            record = self.records.get(record_type, {}).get(key)
            return dict(record) if record is not None else None

    def documents(self, record_type: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.records.get(record_type, {}).values()]

    def exists(self, record_type: str, internal_id: str) -> bool:
        with self.lock:
            return internal_id in self.records.get(record_type, {})


class _Handler(BaseHTTPRequestHandler):
    server: FakeErpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ---------------------------------------------------------------------------

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        try:
            return json.loads(self.rfile.read(length))
        except ValueError:
            return ValueError

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        with self.server.erp.lock:
            self.server.erp.counts["dropped"] += 1
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # -- the API ------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        erp = self.server.erp
        path = urlsplit(self.path).path
        body = self._body()
        if path.startswith("/_control"):
            return self._control(method, path, body)
        erp.receive(method, path, self.headers)
        if body is ValueError:
            return self._answer(400, _problem(400, "INVALID_CONTENT", "The request body is not valid JSON."))
        if not self.headers.get("Authorization", "").startswith("OAuth "):
            return self._answer(401, _problem(401, "INVALID_LOGIN", "Invalid login attempt."))
        match = _RECORD.match(path)
        if not match:
            return self._answer(404, _problem(404, "NONEXISTENT_ID", f"No resource at {path}."))
        record_type, key = match["type"], unquote(match["key"] or "")
        fault = erp.take_fault(method, body)
        kind = (fault or {}).get("fault")
        if kind == "500":
            return self._answer(500, _problem(500, "UNEXPECTED_ERROR", "An unexpected error occurred."))
        if kind == "429":
            return self._answer(
                429,
                _problem(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded."),
                {"Retry-After": str(fault.get("retry_after", 1))},
            )
        if kind == "reject":
            return self._answer(
                400,
                _problem(
                    400,
                    fault.get("code", "USER_ERROR"),
                    fault.get("message", "Error while accessing a resource."),
                    fault.get("path", ""),
                ),
            )
        if method == "GET":
            return self._read(record_type, key)
        if not isinstance(body, dict):
            return self._answer(400, _problem(400, "INVALID_CONTENT", "A record body is required."))
        problem = self._check_references(record_type, body)
        if problem:
            return self._answer(400, problem)
        if method == "POST" and not key:
            internal_id, problem = erp.create(record_type, body)
            if problem:
                return self._answer(400, problem)
        elif method == "PUT" and key.startswith("eid:"):
            internal_id = erp.upsert(record_type, key[4:], body)
        else:
            return self._answer(
                405, _problem(400, "INVALID_REQUEST", f"{method} is not supported on {path}.")
            )
        if kind == "drop":
            return self._drop()
        if kind == "hang":
            time.sleep(min(float(fault.get("hang_seconds", 3)), self.server.max_hang))
        location = f"http://{self.headers.get('Host', '127.0.0.1')}{RECORD_PREFIX}{record_type}/{internal_id}"
        self._answer(204, None, {"Location": location})

    def _read(self, record_type: str, key: str) -> None:
        erp = self.server.erp
        if not key:
            items = [{"id": r["id"], "links": []} for r in erp.documents(record_type)]
            return self._answer(
                200, {"links": [], "count": len(items[:1000]), "hasMore": False, "items": items[:1000]}
            )
        record = erp.get(record_type, key)
        if record is None:
            return self._answer(
                404, _problem(404, "NONEXISTENT_ID", f"The record instance does not exist: {key}.")
            )
        return self._answer(200, record)

    def _check_references(self, record_type: str, body: dict[str, Any]) -> dict | None:
        erp = self.server.erp
        for field in ("entity", "customer"):
            ref = body.get(field)
            if isinstance(ref, dict) and "id" in ref and not erp.exists("customer", str(ref["id"])):
                return _problem(
                    400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {ref['id']}.", field
                )
        return None

    def _control(self, method: str, path: str, body: Any) -> None:
        erp = self.server.erp
        if method == "GET":
            return self._answer(200, erp.state())
        if path == "/_control/reset":
            erp.reset()
            return self._answer(200, erp.state())
        if not isinstance(body, dict):
            return self._answer(400, {"error": "send a JSON object"})
        if body.get("fault", "none") not in ("none", "500", "429", "hang", "drop", "reject"):
            return self._answer(400, {"error": f"unknown fault {body.get('fault')!r}"})
        erp.control(body)
        return self._answer(200, erp.state())


class FakeErpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, *, erp: FakeErp | None = None, max_hang: float = 30.0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.erp = erp or FakeErp()
        self.max_hang = max_hang
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeErpServer:
        self._thread = threading.Thread(target=self.serve_forever, name="fake-erp", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake NetSuite REST record API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8430)
    parser.add_argument(
        "--max-seconds", type=float, default=0, help="stop after this long (0: run until stopped)"
    )
    args = parser.parse_args(argv)
    server = FakeErpServer(args.port)
    print(f"fake NetSuite listening on {server.base_url}", flush=True)
    if args.max_seconds:
        threading.Timer(args.max_seconds, server.shutdown).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
