"""The demo fakes' own control endpoints, which stand in for people at work in
those systems: a sales rep closing or amending a deal in the CRM, an ERP
administrator whose period close makes NetSuite refuse a document."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.errors import TransientError

TIMEOUT = 10.0


class FakeSystem:
    def __init__(self, base_url: str, *, token: str = ""):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Loopback only, never through a proxy.
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=TIMEOUT, trust_env=False
        )

    def __enter__(self) -> FakeSystem:
        return self

    def __exit__(self, *exc) -> None:
        self._http.close()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise TransientError(f"The demo's fake at {self._http.base_url} did not answer: {exc}") from exc
        if response.is_error:
            raise TransientError(
                f"The demo's fake answered {response.status_code} to {method} {path}: {response.text[:200]}"
            )
        return response.json() if response.content else None


class FakeCrm(FakeSystem):
    """The fake HubSpot: its CRM API for reading, its control API for the rep's actions."""

    def ids(self, object_type: str) -> list[str]:
        found, after = [], None
        while True:
            query = f"/crm/v3/objects/{object_type}?limit=100" + (f"&after={after}" if after else "")
            page = self.call("GET", query)
            found += [obj["id"] for obj in page.get("results", [])]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found

    def products(self) -> list[str]:
        ids = self.ids("products")
        if not ids:  # a fake just started keeps nothing: give it its catalogue again
            self.call("POST", "/_fake/seed")
            ids = self.ids("products")
        return ids

    def add_deal(self, spec: dict[str, Any]) -> str:
        return self.call("POST", "/_fake/deals", spec)["id"]

    def close_deal(self, deal_id: str, *, won: bool, day: str) -> None:
        self.call("POST", f"/_fake/deals/{deal_id}/close", {"won": won, "close_date": day})

    def amend_deal(self, deal_id: str, line_items: list[dict], day: str) -> None:
        self.call(
            "POST", f"/_fake/deals/{deal_id}/line_items", {"line_items": line_items, "amendment_date": day}
        )


class FakeNetSuite(FakeSystem):
    def reject_next(self, *, tran_id: str, message: str) -> None:
        """NetSuite refuses the next record posted with this tranId, once."""
        self.call(
            "POST",
            "/_control",
            {
                "fault": "reject",
                "code": "USER_ERROR",
                "message": message,
                "path": "tranDate",
                "match": {"tranId": tran_id},
                "count": 1,
            },
        )
