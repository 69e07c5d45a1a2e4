"""A small fake AvaTax REST v2 server on 127.0.0.1, serving the documented shapes.

Built from Avalara's own fixture (tests/fixtures/vendor/avalara): CreateTransaction
answers with the fixture transaction, one line per requested line, each carrying
the fixture's four California jurisdictions (6 + 0.25 + 1 + 0.5 = 7.75 %), the
tax of each computed per jurisdiction and rounded half up as AvaTax does.
`mode` scripts failures: "unauthorized" (401), "unavailable" (503), "broken"
(500), "not_json", "bad_request" (400 with AvaTax's error object), or
"anonymous" (a ping that is not authenticated).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "vendor" / "avalara"
ACCOUNT_ID = "2000134479"
LICENSE_KEY = "AVALARA-LICENSE-KEY-0123456789ABCDEF"
CENT = Decimal("0.01")


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


class FakeAvaTax:
    def __init__(self):
        self.mode = "ok"
        self.requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

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

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                fake._serve(self, None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                fake._serve(self, self.rfile.read(length))

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        parsed = json.loads(body, parse_float=Decimal) if body else None
        self.requests.append(
            {
                "method": handler.command,
                "path": handler.path,
                "headers": dict(handler.headers),
                "json": parsed,
            }
        )
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
        if handler.path == "/api/v2/utilities/ping" and handler.command == "GET":
            signed_in = authorized and self.mode != "anonymous"
            answer = {"version": "24.1.0", "authenticated": signed_in}
            if signed_in:
                answer.update(
                    authenticationType="AccountIdLicenseKey", authenticatedAccountId=int(ACCOUNT_ID)
                )
            return _send(handler, 200, answer)
        if not authorized or self.mode == "unauthorized":
            return _send(
                handler,
                401,
                {"error": {"code": "AuthenticationException", "message": "Authentication failed."}},
            )
        if handler.path.startswith("/api/v2/transactions/create") and handler.command == "POST":
            if self.mode == "bad_request":
                return _send(
                    handler,
                    400,
                    {
                        "error": {
                            "code": "InvalidAddress",
                            "message": "The address value was incomplete.",
                            "target": "IncorrectData",
                        }
                    },
                )
            return _send(handler, 201, transaction_for(parsed))
        return _send(handler, 404, {"error": {"code": "NotFound", "message": "No such endpoint"}})


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


def transaction_for(request: dict) -> dict:
    """The fixture transaction, recomputed for the requested lines."""
    template = fixture("transaction_response.json")
    line_template = template["lines"][0]
    lines, total_tax, total_amount = [], Decimal(0), Decimal(0)
    for requested in request["lines"]:
        amount = Decimal(str(requested["amount"]))
        details = copy.deepcopy(line_template["details"])
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
