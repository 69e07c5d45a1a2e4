"""A fake AvaTax REST v2 on 127.0.0.1, serving the shapes of Avalara's own fixtures.

    python -m connectors.avalara.fake_server --port 8450

The demo runs it beside the app (connector `avatax-local`); the tests start it on
a free port. Built from the fixtures in tests/fixtures/vendor/avalara:
- CreateTransaction answers with the fixture transaction, one line per requested
  line, each carrying the fixture's four California jurisdictions
  (6 + 0.25 + 1 + 0.5 = 7.75 %), each tax computed per jurisdiction and rounded
  half up; the fake seller has nexus in California only, so a sale placed in
  another US state carries no tax. A transaction created with `commit: true` and a `code` is kept, as
  AvaTax keeps documents; creating one again under a committed code is refused.
- GetTransactionByCode answers with the kept transaction (404 when none).
- AdjustTransaction replaces a kept transaction with its `newTransaction`,
  raising its `version` and recording the adjustment reason
  (adjust_transaction_response.json); VoidTransaction marks it `Cancelled`
  (void_transaction_response.json). Both refuse a code AvaTax does not know and
  a transaction already voided.
`mode` (or POST /_control {"mode": ...}) scripts failures: "unauthorized" (401),
"unavailable" (503), "broken" (500), "not_json", "bad_request" (400 with
AvaTax's error object), or "anonymous" (a ping that is not authenticated).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import threading
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "vendor" / "avalara"
ACCOUNT_ID = "2000134479"
LICENSE_KEY = "AVALARA-LICENSE-KEY-0123456789ABCDEF"
CENT = Decimal("0.01")
VOID_REASONS = ("unspecified", "postfailed", "docdeleted", "docvoided", "adjustmentcancelled")
MODES = ("ok", "unauthorized", "unavailable", "broken", "not_json", "bad_request", "anonymous")
_DOCUMENT = re.compile(
    r"^/api/v2/companies/(?P<company>[^/]+)/transactions/(?P<code>[^/]+)(?:/(?P<action>adjust|void))?$"
)


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def _error(code: str, message: str, target: str = "IncorrectData") -> dict:
    return {"error": {"code": code, "message": message, "target": target}}


class FakeAvaTax:
    def __init__(self, port: int = 0):
        self.mode = "ok"
        self.requests: list[dict] = []
        self.documents: dict[tuple[str, str], dict] = {}  # (company code, transaction code) → transaction
        self.lock = threading.Lock()
        self._next_id = 289451000
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-avatax", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAvaTax:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def document(self, code: str, company: str = "DEFAULT") -> dict | None:
        with self.lock:
            return copy.deepcopy(self.documents.get((company, code)))

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test and demo output quiet
                pass

            def do_GET(self):
                fake._serve(self, None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                fake._serve(self, self.rfile.read(length))

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        try:
            parsed = json.loads(body, parse_float=Decimal) if body else None
        except ValueError:
            return _send(handler, 400, _error("JsonFormatError", "The request body is not JSON."))
        path = urlsplit(handler.path).path
        self.requests.append(
            {
                "method": handler.command,
                "path": handler.path,
                "headers": dict(handler.headers),
                "json": parsed,
            }
        )
        if path.startswith("/_control"):
            return self._control(handler, parsed)
        authorized = (
            handler.headers.get("Authorization")
            == "Basic " + base64.b64encode(f"{ACCOUNT_ID}:{LICENSE_KEY}".encode()).decode()
        )
        if self.mode == "unavailable":
            return _send(handler, 503, {"error": {"code": "ServiceUnavailable", "message": "Try later"}})
        if self.mode == "broken":
            return _send(handler, 500, {"error": {"code": "InternalError", "message": "Oops"}})
        if self.mode == "not_json":
            return _send(handler, 200, "<html>a login page</html>", raw=True)
        if path == "/api/v2/utilities/ping" and handler.command == "GET":
            signed_in = authorized and self.mode != "anonymous"
            answer = {"version": "24.1.0", "authenticated": signed_in}
            if signed_in:
                answer.update(
                    authenticationType="AccountIdLicenseKey", authenticatedAccountId=int(ACCOUNT_ID)
                )
            return _send(handler, 200, answer)
        if not authorized or self.mode == "unauthorized":
            return _send(
                handler, 401, _error("AuthenticationException", "Authentication failed.", "HttpRequest")
            )
        if self.mode == "bad_request" and handler.command == "POST":
            return _send(handler, 400, _error("InvalidAddress", "The address value was incomplete."))
        if path == "/api/v2/transactions/create" and handler.command == "POST":
            return self._create(handler, parsed or {})
        match = _DOCUMENT.match(path)
        if match:
            key = (unquote(match["company"]), unquote(match["code"]))
            if handler.command == "GET" and not match["action"]:
                return self._read(handler, key)
            if handler.command == "POST" and match["action"] == "adjust":
                return self._adjust(handler, key, parsed or {})
            if handler.command == "POST" and match["action"] == "void":
                return self._void(handler, key, parsed or {})
        return _send(handler, 404, _error("NotFound", "No such endpoint", "HttpRequest"))

    def _control(self, handler, body) -> None:
        if handler.command == "POST":
            mode = (body or {}).get("mode")
            if mode not in MODES:
                return _send(handler, 400, {"error": f"mode must be one of {', '.join(MODES)}"})
            self.mode = mode
        with self.lock:
            return _send(handler, 200, {"mode": self.mode, "documents": len(self.documents)})

    def _create(self, handler, request: dict) -> None:
        answer = transaction_for(request)
        code = str(request.get("code") or "")
        if not (request.get("commit") and code):
            return _send(handler, 201, answer)
        key = (str(request.get("companyCode") or "DEFAULT"), code)
        with self.lock:
            kept = self.documents.get(key)
            if kept is not None and kept["status"] in ("Committed", "Cancelled"):
                return _send(
                    handler,
                    400,
                    _error(
                        "DocumentStatusIsInvalid",
                        f"Transaction {code} is {kept['status']} and cannot be created again; adjust or void it.",
                    ),
                )
            self._next_id += 1
            answer.update(id=self._next_id, code=code, version=1, adjustmentReason="NotAdjusted")
            self.documents[key] = answer
        return _send(handler, 201, answer)

    def _read(self, handler, key) -> None:
        document = self.document(key[1], key[0])
        if document is None:
            return _send(handler, 404, _not_found(key[1]))
        return _send(handler, 200, document)

    def _adjust(self, handler, key, request: dict) -> None:
        new = request.get("newTransaction")
        if not isinstance(new, dict) or not isinstance(new.get("lines"), list):
            return _send(
                handler, 400, _error("MissingRequiredField", "newTransaction with its lines is required.")
            )
        with self.lock:
            kept = self.documents.get(key)
            if kept is None:
                return _send(handler, 404, _not_found(key[1]))
            if kept["status"] == "Cancelled":
                return _send(handler, 400, _voided(key[1]))
            shape = fixture("adjust_transaction_response.json")
            answer = transaction_for({**new, "commit": True})
            answer.update(
                id=kept["id"],
                code=key[1],
                version=kept["version"] + 1,
                adjustmentReason=request.get("adjustmentReason") or shape["adjustmentReason"],
                adjustmentDescription=request.get("adjustmentDescription") or "",
            )
            self.documents[key] = answer
        return _send(handler, 200, answer)

    def _void(self, handler, key, request: dict) -> None:
        # AvaTax reads enums without regard to case: the SDK's own fixture sends "docVoided".
        if str((request or {}).get("code", "")).lower() not in VOID_REASONS:
            return _send(
                handler, 400, _error("InvalidEnumValue", "code must be a VoidReasonCode such as DocVoided.")
            )
        with self.lock:
            kept = self.documents.get(key)
            if kept is None:
                return _send(handler, 404, _not_found(key[1]))
            if kept["status"] == "Cancelled":
                return _send(handler, 400, _voided(key[1]))
            kept["status"] = fixture("void_transaction_response.json")["status"]
            answer = copy.deepcopy(kept)
        return _send(handler, 200, answer)


def _not_found(code: str) -> dict:
    return _error("EntityNotFoundError", f"Transaction with code '{code}' not found.", "HttpRequest")


def _voided(code: str) -> dict:
    return _error("DocumentStatusIsInvalid", f"Transaction {code} is voided (Cancelled); it cannot change.")


def _send(handler, status: int, body, *, raw: bool = False) -> None:
    data = (body if raw else json.dumps(body, default=_number)).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "text/html" if raw else "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def _in_nexus(request: dict) -> bool:
    """The fake seller collects tax in California only, as a seller with nexus in one
    state would: a sale placed in another US state carries none."""
    address = (request.get("addresses") or {}).get("SingleLocation") or {}
    region = str(address.get("region") or "").upper()
    return str(address.get("country") or "US").upper() != "US" or region in ("", "CA")


def transaction_for(request: dict) -> dict:
    """The fixture transaction, recomputed for the requested lines."""
    template = fixture("transaction_response.json")
    line_template = template["lines"][0]
    taxed = _in_nexus(request)
    lines, total_tax, total_amount = [], Decimal(0), Decimal(0)
    for requested in request["lines"]:
        amount = Decimal(str(requested["amount"]))
        details = copy.deepcopy(line_template["details"]) if taxed else []
        rate = sum((Decimal(str(d["rate"])) for d in details), Decimal(0))
        taxable = (
            (amount / (1 + rate)).quantize(CENT, ROUND_HALF_UP) if requested.get("taxIncluded") else amount
        )
        line_tax = Decimal(0)
        for detail in details:
            tax = (taxable * Decimal(str(detail["rate"]))).quantize(CENT, ROUND_HALF_UP)
            detail.update(tax=tax, taxCalculated=tax, taxableAmount=taxable)
            line_tax += tax
        line = copy.deepcopy(line_template)
        line.update(
            lineNumber=requested["number"],
            lineAmount=taxable,
            taxableAmount=taxable,
            tax=line_tax,
            taxCalculated=line_tax,
            taxIncluded=bool(requested.get("taxIncluded")),
            details=details,
        )
        lines.append(line)
        total_tax += line_tax
        total_amount += taxable
    answer = copy.deepcopy(template)
    answer.update(
        type=request.get("type"),
        status="Saved" if not request.get("commit") else "Committed",
        lines=lines,
        totalTax=total_tax,
        totalTaxCalculated=total_tax,
        totalAmount=total_amount,
        customerVendorCode=request.get("customerCode"),
        currencyCode=request.get("currencyCode"),
    )
    return answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake AvaTax REST v2 API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8450)
    parser.add_argument(
        "--max-seconds", type=float, default=0, help="stop after this long (0: run until stopped)"
    )
    args = parser.parse_args(argv)
    server = FakeAvaTax(args.port)
    print(f"fake AvaTax listening on {server.base_url}", flush=True)
    if args.max_seconds:
        threading.Timer(args.max_seconds, server._server.shutdown).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":
    main()
