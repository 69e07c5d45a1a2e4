"""NetSuite's REST record API (`/services/rest/record/v1/<record type>`) over httpx.

What is used, from the vendor's public reference ("REST Web Services", SuiteTalk):
- `POST /record/v1/<type>` creates a record; NetSuite answers 204 No Content with
  the new record's URL in `Location` (its internal id is the last segment).
- `GET /record/v1/<type>/eid:<externalId>` reads a record by our external id:
  200 with the record, 404 when there is none. This is the lookup done before
  posting again after an uncertain outcome.
- `PUT /record/v1/<type>/eid:<externalId>` is an upsert by external id (customers:
  posting one twice changes nothing).
- Token-based authentication: OAuth 1.0a with HMAC-SHA256, realm = account id,
  credentials consumer key/secret and token id/secret (kept encrypted on the
  connector). The signature covers the method, URL and query; the body is not
  signed (JSON bodies never are under OAuth 1.0a).
- `X-NetSuite-Idempotency-Key` is sent with every create. NetSuite honours it only
  for asynchronous requests, so exactly-once never relies on it: the lookup by
  external id does.

Failures become `connectors.errors` through `connectors.erp.errors`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from connectors.erp.errors import classify_response
from connectors.errors import ConfigurationError, TransientError, classify_http

RECORD_PATH = "/services/rest/record/v1"
RECORD_TYPES = ("customer", "invoice", "creditMemo", "customerPayment", "journalEntry")
CREDENTIAL_KEYS = ("account_id", "consumer_key", "consumer_secret", "token_id", "token_secret")


class UncertainOutcome(TransientError):
    """The request was sent but no answer came back (timeout after sending, the
    connection dropped): the ERP may or may not hold the document now."""


def _pct(value: str) -> str:
    return quote(str(value), safe="~")


def oauth1_header(
    method: str,
    url: httpx.URL,
    *,
    account_id: str,
    consumer_key: str,
    consumer_secret: str,
    token_id: str,
    token_secret: str,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """The `Authorization: OAuth ...` header of NetSuite token-based authentication."""
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_token": token_id,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_version": "1.0",
    }
    params = [(k, v) for k, v in url.params.multi_items()] + list(oauth.items())
    normalized = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted((_pct(k), _pct(v)) for k, v in params))
    base_url = f"{url.scheme}://{url.netloc.decode('ascii').lower()}{url.path}"
    base_string = "&".join([method.upper(), _pct(base_url), _pct(normalized)])
    key = f"{_pct(consumer_secret)}&{_pct(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    oauth["oauth_signature"] = base64.b64encode(digest).decode()
    fields = ", ".join(f'{k}="{_pct(v)}"' for k, v in oauth.items())
    return f'OAuth realm="{_pct(account_id)}", {fields}'


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # money has far fewer than 15 significant digits
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class NetSuiteClient:
    def __init__(self, base_url: str, credentials: dict[str, str], *, http_client: httpx.Client):
        missing = [key for key in CREDENTIAL_KEYS if not str(credentials.get(key) or "").strip()]
        if missing:
            raise ConfigurationError(
                f"The NetSuite connector is missing {', '.join(missing)}; enter the token-based credentials"
            )
        self._base_url = base_url.rstrip("/")
        self._credentials = {key: str(credentials[key]) for key in CREDENTIAL_KEYS}
        self._http = http_client

    def __repr__(self) -> str:
        return f"NetSuiteClient({self._base_url!r})"

    # -- records ---------------------------------------------------------------------------

    def create(self, record_type: str, body: dict[str, Any], *, idempotency_key: str) -> str:
        """POST a new record; its NetSuite internal id. A request that was sent but
        got no answer raises `UncertainOutcome`."""
        response = self._send(
            "POST",
            self._path(record_type),
            body=body,
            headers={"X-NetSuite-Idempotency-Key": idempotency_key},
        )
        return self._id_from(response, record_type)

    def upsert(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        """PUT by external id: creates the record or updates the one holding it."""
        response = self._send("PUT", self._path(record_type, external_id), body=body)
        if response.status_code == 204 and "location" not in response.headers:
            found = self.find(record_type, external_id)
            if found is None:
                raise TransientError(
                    f"NetSuite accepted {record_type} {external_id} but cannot read it back yet"
                )
            return str(found["id"])
        return self._id_from(response, record_type)

    def find(self, record_type: str, external_id: str) -> dict[str, Any] | None:
        """The record holding `external_id`, or None when NetSuite has none."""
        response = self._send("GET", self._path(record_type, external_id), allow_404=True)
        if response.status_code == 404:
            return None
        body = self._json(response)
        if not isinstance(body, dict) or "id" not in body:
            raise ConfigurationError(
                f"GET {self._base_url}{self._path(record_type, external_id)} did not answer with a "
                "NetSuite record; check that the base URL is the account's REST endpoint"
            )
        return body

    def test_connection(self) -> str:
        response = self._send("GET", f"{RECORD_PATH}/customer", params={"limit": 1})
        body = self._json(response)
        if not isinstance(body, dict) or "items" not in body:
            raise ConfigurationError(
                f"{self._base_url}{RECORD_PATH}/customer did not answer with a NetSuite collection"
            )
        return f"NetSuite answered at {self._base_url} (account {self._credentials['account_id']})"

    # -- transport ---------------------------------------------------------------------------

    @staticmethod
    def _path(record_type: str, external_id: str | None = None) -> str:
        if record_type not in RECORD_TYPES:
            raise ValueError(f"{record_type!r} is not a record type revops posts")
        path = f"{RECORD_PATH}/{record_type}"
        if external_id is not None:
            path += "/eid:" + quote(external_id, safe="")
        return path

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
        params: dict | None = None,
        allow_404: bool = False,
    ) -> httpx.Response:
        url = httpx.URL(self._base_url + path, params=params)
        all_headers = {
            "Accept": "application/json",
            "Authorization": oauth1_header(method, url, **self._credentials),
            **(headers or {}),
        }
        content = None
        if body is not None:
            all_headers["Content-Type"] = "application/json"
            content = json.dumps(body, default=json_default).encode()
        try:
            response = self._http.request(method, url, headers=all_headers, content=content)
        except httpx.HTTPError as exc:
            error = classify_http(exc)
            if body is not None and _maybe_delivered(exc):
                raise UncertainOutcome(error.message, request=getattr(error, "request", None)) from exc
            raise error from exc
        if allow_404 and response.status_code == 404:
            return response
        if not response.is_success:
            raise classify_response(response) if response.status_code >= 400 else classify_http(response)
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            return None

    def _id_from(self, response: httpx.Response, record_type: str) -> str:
        location = response.headers.get("location", "")
        internal_id = location.rstrip("/").rpartition("/")[2]
        if not internal_id:
            body = self._json(response)
            internal_id = str(body.get("id", "")) if isinstance(body, dict) else ""
        if not internal_id:
            raise ConfigurationError(
                f"NetSuite accepted the {record_type} but did not say its id (no Location header)"
            )
        return internal_id


def _maybe_delivered(exc: httpx.HTTPError) -> bool:
    """Whether the ERP may have received (and committed) the request: anything but
    a failure to open the connection."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
