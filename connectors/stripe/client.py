"""Stripe's REST API over httpx: list with `starting_after` paging, retrieve, test.

The caller passes a ready `httpx.Client` (in the app, the SSRF-safe one from
`connectors.http`); this class adds the Stripe base URL and the bearer key to each
request and turns failures into `connectors.errors`:
- timeouts, connection errors, 429 (with Retry-After) and 5xx → TransientError;
- 401/403 → ConfigurationError; an answer that is not a Stripe JSON object → ConfigurationError;
- any other 4xx → BusinessError carrying Stripe's `error.message`.
The API key travels only in the Authorization header: never in a URL, a message or a repr.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from connectors.errors import ConfigurationError, TransientError, classify_http

MAX_LIMIT = 100  # Stripe's ceiling for one page
# Stripe paths are /v1/<resource>[/<sub-resource>...]; anything else (a full URL,
# "//host", "..") would let a caller aim the key somewhere else.
_RESOURCE_PATH = re.compile(r"/v1(/[A-Za-z0-9_]+)+")


class StripeClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http_client: httpx.Client,
        api_version: str | None = None,
    ):
        if not api_key:
            raise ConfigurationError("The Stripe connector has no API key; enter its secret key")
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._http = http_client
        self._api_version = api_version

    def __repr__(self) -> str:
        return f"StripeClient({self._base_url!r})"

    # --- reading ---------------------------------------------------------------------------

    def list(
        self,
        resource_path: str,
        *,
        starting_after: str | None = None,
        limit: int = MAX_LIMIT,
        params: dict[str, Any] | None = None,
    ) -> tuple[list[dict], bool]:
        """One page of a list endpoint: (objects, has_more). Page on with
        `starting_after=<id of the last object>`, which works whichever order the
        server lists in (Stripe newest-first, localstripe oldest-first).
        `params` adds filters, e.g. {"created[gte]": 1700000000} for /v1/events."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        query = {**(params or {}), "limit": limit}
        if starting_after is not None:
            query["starting_after"] = starting_after
        body = self._get(resource_path, query)
        data, has_more = body.get("data"), body.get("has_more")
        if body.get("object") != "list" or not isinstance(data, list) or not isinstance(has_more, bool):
            raise self._not_stripe(resource_path, "a list")
        return data, has_more

    def list_all(
        self, resource_path: str, *, params: dict[str, Any] | None = None, limit: int = MAX_LIMIT
    ) -> Iterator[dict]:
        """Every object of a list endpoint, page after page. A server that hands back an
        object twice (a list changing under the cursor) stops the walk: counting it
        twice would be worse than starting again."""
        seen: set[str] = set()
        cursor = None
        while True:
            data, has_more = self.list(resource_path, starting_after=cursor, limit=limit, params=params)
            for obj in data:
                object_id = obj.get("id") if isinstance(obj, dict) else None
                if not isinstance(object_id, str) or object_id in seen:
                    raise TransientError(
                        f"Stripe listed {resource_path} inconsistently (object {object_id!r} again or "
                        "without an id); the sync will start the list again"
                    )
                seen.add(object_id)
                yield obj
            if not has_more or not data:
                return
            cursor = data[-1]["id"]

    def retrieve(self, resource_path: str, object_id: str) -> dict:
        if not object_id:
            raise ValueError("object_id is required")
        path = f"{resource_path}/{quote(object_id, safe='')}"
        body = self._get(resource_path, None, path=path)
        if not isinstance(body.get("id"), str):
            raise self._not_stripe(path, "a Stripe object")
        return body

    def test_connection(self) -> str:
        """A short description of the account that answered, or a ConnectorError."""
        balance = self._get("/v1/balance", None)
        if balance.get("object", "balance") != "balance":
            raise self._not_stripe("/v1/balance", "a balance")
        mode = "live" if balance.get("livemode") else "test"
        currencies = sorted({c.upper() for c in _balance_currencies(balance.get("available"))})
        held = f"; balance in {', '.join(currencies)}" if currencies else ""
        return f"Stripe answered at {self._base_url} ({mode} mode{held})"

    # --- transport ---------------------------------------------------------------------------

    def _get(self, resource_path: str, params: dict[str, Any] | None, *, path: str | None = None) -> dict:
        if not _RESOURCE_PATH.fullmatch(resource_path):
            raise ValueError(f"{resource_path!r} is not a Stripe API path like /v1/customers")
        url = self._base_url + (path or resource_path)
        try:
            response = self._http.get(url, params=params, headers=self._headers())
        except httpx.HTTPError as exc:
            raise classify_http(exc) from exc
        if not response.is_success:  # a 3xx too: redirects are not followed
            raise classify_http(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise self._not_stripe(path or resource_path, "JSON")
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if self._api_version:
            headers["Stripe-Version"] = self._api_version
        return headers

    def _not_stripe(self, path: str, expected: str) -> ConfigurationError:
        return ConfigurationError(
            f"GET {self._base_url}{path} did not answer with {expected}; check that the base URL is Stripe's API"
        )


def _balance_currencies(available: Any) -> list[str]:
    # Stripe sends a list of {amount, currency}; localstripe sends one such object.
    entries = available if isinstance(available, list) else [available]
    return [e["currency"] for e in entries if isinstance(e, dict) and isinstance(e.get("currency"), str)]
