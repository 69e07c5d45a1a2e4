"""AvaTax REST v2 over httpx: ping, CreateTransaction, and for committed
documents GetTransactionByCode, AdjustTransaction and VoidTransaction.

The caller passes a ready `httpx.Client` (in the app, the SSRF-safe one from
`connectors.http`); this class adds the base URL and HTTP Basic credentials
(account id and license key) to each request and turns failures into
`connectors.errors`:
- timeouts, connection errors, 429 and 5xx → TransientError;
- 401/403, or a ping that says it is not authenticated → ConfigurationError;
- an answer that is not AvaTax JSON → ConfigurationError;
- any other 4xx → BusinessError carrying AvaTax's `error.message`.
The license key travels only in the Authorization header, never in a URL,
a message or a repr. Amounts are read as Decimal, never float.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from connectors.errors import BusinessError, ConfigurationError, classify_http

PING_PATH = "/api/v2/utilities/ping"
CREATE_TRANSACTION_PATH = "/api/v2/transactions/create"
DOCUMENT_PATH = "/api/v2/companies/{company}/transactions/{code}"
CLIENT_HEADER = "revops; 1.0; python-httpx; REST v2; revops"


class AvaTaxClient:
    def __init__(self, base_url: str, account_id: str, license_key: str, *, http_client: httpx.Client):
        if not account_id or not license_key:
            raise ConfigurationError(
                "The Avalara connector needs its account id and license key; enter them on the connector"
            )
        self._base_url = base_url.rstrip("/")
        token = base64.b64encode(f"{account_id}:{license_key}".encode()).decode()
        self._authorization = f"Basic {token}"
        self._http = http_client

    def __repr__(self) -> str:
        return f"AvaTaxClient({self._base_url!r})"

    def ping(self) -> dict[str, Any]:
        return self._send("GET", PING_PATH)

    def test_connection(self) -> str:
        answer = self.ping()
        if not answer.get("authenticated"):
            raise ConfigurationError(
                f"AvaTax at {self._base_url} answered the ping but did not accept the account id and "
                "license key; check them"
            )
        version = answer.get("version") or "unknown version"
        account = answer.get("authenticatedAccountId")
        who = f", account {account}" if account else ""
        return f"AvaTax answered at {self._base_url} ({version}{who})"

    def create_transaction(self, model: dict[str, Any]) -> dict[str, Any]:
        """POST a CreateTransactionModel; the transaction as AvaTax computed it."""
        answer = self._send("POST", CREATE_TRANSACTION_PATH, json_body=model)
        if not isinstance(answer.get("lines"), list):
            raise ConfigurationError(
                f"POST {self._base_url}{CREATE_TRANSACTION_PATH} did not answer with a transaction "
                "(no lines); check that the base URL is AvaTax's REST v2 API"
            )
        return answer

    def get_transaction(self, company_code: str, code: str) -> dict[str, Any] | None:
        """The transaction AvaTax keeps under `code`, or None when it has none."""
        try:
            return self._send("GET", _document_path(company_code, code))
        except BusinessError as exc:
            if exc.details.get("status") == 404:
                return None
            raise

    def adjust_transaction(
        self, company_code: str, code: str, *, reason: str, description: str, model: dict[str, Any]
    ) -> dict[str, Any]:
        """Replace the committed transaction `code` by `model` (AvaTax raises its version)."""
        body = {
            "adjustmentReason": reason,
            "adjustmentDescription": description[:255],
            "newTransaction": model,
        }
        return self._send("POST", _document_path(company_code, code) + "/adjust", json_body=body)

    def void_transaction(
        self, company_code: str, code: str, *, reason_code: str = "DocVoided"
    ) -> dict[str, Any]:
        return self._send(
            "POST", _document_path(company_code, code) + "/void", json_body={"code": reason_code}
        )

    def _send(self, method: str, path: str, *, json_body: dict | None = None) -> dict[str, Any]:
        url = self._base_url + path
        headers = {
            "Authorization": self._authorization,
            "Accept": "application/json",
            "X-Avalara-Client": CLIENT_HEADER,
        }
        content = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(json_body, default=_json_default).encode()
        try:
            response = self._http.request(method, url, headers=headers, content=content)
        except httpx.HTTPError as exc:
            raise classify_http(exc) from exc
        if not response.is_success:  # a 3xx too: redirects are not followed
            raise classify_http(response)
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise ConfigurationError(
                f"{method} {url} did not answer with JSON; check that the base URL is AvaTax's REST v2 API"
            )
        return body


def _document_path(company_code: str, code: str) -> str:
    return DOCUMENT_PATH.format(company=quote(company_code, safe=""), code=quote(code, safe=""))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A JSON number. Money has far fewer than 15 significant digits, so the
        # float's shortest repr is exactly the Decimal's digits ("107.75").
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
