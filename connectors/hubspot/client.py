"""HubSpot's CRM v3 API over httpx: list with `after` paging, search for changes,
read one object with its associations, batch-read line items.

The caller passes a ready `httpx.Client` (in the app, the SSRF-safe one from
`connectors.http`); this class adds the base URL and the private-app token to each
request and turns failures into `connectors.errors` (timeouts, 429, 5xx →
TransientError; 401/403 → ConfigurationError; another 4xx → BusinessError). The
token travels only in the Authorization header.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from connectors.errors import ConfigurationError, classify_http

MAX_LIMIT = 100  # HubSpot's ceiling for list and search pages
BATCH_LIMIT = 100  # ids per batch read
OBJECT_TYPES = frozenset({"companies", "deals", "line_items", "products"})
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class HubSpotClient:
    def __init__(self, base_url: str, token: str, *, http_client: httpx.Client):
        if not token:
            raise ConfigurationError("The HubSpot connector has no access token; enter the private app token")
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._http = http_client

    def __repr__(self) -> str:
        return f"HubSpotClient({self._base_url!r})"

    # --- reading ---------------------------------------------------------------------------

    def list(
        self,
        object_type: str,
        *,
        properties: list[str],
        associations: list[str] = (),
        after: str | None = None,
        limit: int = MAX_LIMIT,
    ) -> tuple[list[dict], str | None]:
        """One page of `GET /crm/v3/objects/<type>`: (results, next `after` or None)."""
        _check_type(object_type)
        params: dict[str, Any] = {"limit": _limit(limit), "properties": ",".join(properties)}
        if associations:
            params["associations"] = ",".join(associations)
        if after:
            params["after"] = after
        body = self._request("GET", f"/crm/v3/objects/{object_type}", params=params)
        return _results(body, self, f"/crm/v3/objects/{object_type}"), _next_after(body)

    def search_modified(
        self,
        object_type: str,
        *,
        since_ms: int,
        properties: list[str],
        after: str | None = None,
        limit: int = MAX_LIMIT,
    ) -> tuple[list[dict], str | None]:
        """One page of objects modified at or after `since_ms`, oldest first, through
        `POST /crm/v3/objects/<type>/search`: (results, next `after` or None)."""
        _check_type(object_type)
        payload: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since_ms)}
                    ]
                }
            ],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": properties,
            "limit": _limit(limit),
        }
        if after:
            payload["after"] = after
        path = f"/crm/v3/objects/{object_type}/search"
        body = self._request("POST", path, json=payload)
        return _results(body, self, path), _next_after(body)

    def read(
        self,
        object_type: str,
        object_id: str,
        *,
        properties: list[str],
        associations: list[str] = (),
        archived: bool = False,
    ) -> dict:
        """`GET /crm/v3/objects/<type>/<id>` with its associations (`archived`: a deleted one)."""
        _check_type(object_type)
        if not _ID.fullmatch(str(object_id)):
            raise ValueError(f"{object_id!r} is not a HubSpot object id")
        params: dict[str, Any] = {"properties": ",".join(properties)}
        if associations:
            params["associations"] = ",".join(associations)
        if archived:
            params["archived"] = "true"
        path = f"/crm/v3/objects/{object_type}/{quote(str(object_id), safe='')}"
        body = self._request("GET", path, params=params)
        if not isinstance(body.get("id"), str):
            raise self._not_hubspot(path, "a HubSpot object")
        return body

    def batch_read(self, object_type: str, ids: list[str], *, properties: list[str]) -> list[dict]:
        """`POST /crm/v3/objects/<type>/batch/read`, in batches of 100 ids."""
        _check_type(object_type)
        path = f"/crm/v3/objects/{object_type}/batch/read"
        found: list[dict] = []
        unique = list(dict.fromkeys(str(i) for i in ids))
        for start in range(0, len(unique), BATCH_LIMIT):
            chunk = unique[start : start + BATCH_LIMIT]
            body = self._request(
                "POST", path, json={"properties": properties, "inputs": [{"id": i} for i in chunk]}
            )
            found += _results(body, self, path)
        return found

    def test_connection(self) -> str:
        self.list("companies", properties=["name"], limit=1)
        return f"HubSpot answered at {self._base_url}"

    # --- transport ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs) -> dict:
        url = self._base_url + path
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            response = self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise classify_http(exc) from exc
        if not response.is_success:
            raise classify_http(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise self._not_hubspot(path, "JSON")
        return body

    def _not_hubspot(self, path: str, expected: str) -> ConfigurationError:
        return ConfigurationError(
            f"{self._base_url}{path} did not answer with {expected}; check that the base URL is HubSpot's API"
        )


def _check_type(object_type: str) -> None:
    if object_type not in OBJECT_TYPES:
        raise ValueError(f"{object_type!r} is not a HubSpot object type this connector reads")


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _results(body: dict, client: HubSpotClient, path: str) -> list[dict]:
    results = body.get("results")
    if not isinstance(results, list):
        raise client._not_hubspot(path, "a list of results")
    return [obj for obj in results if isinstance(obj, dict) and isinstance(obj.get("id"), str)]


def _next_after(body: dict) -> str | None:
    paging = body.get("paging")
    after = paging.get("next", {}).get("after") if isinstance(paging, dict) else None
    return str(after) if after not in (None, "") else None
