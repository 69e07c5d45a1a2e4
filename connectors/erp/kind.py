"""The NetSuite connector kind: an outbound target, not a data source.

It has no sync streams; `connectors.posting` posts revops's invoices, voids and
payment applications through `client()`. Test connection reads one customer.
"""

from __future__ import annotations

from typing import Any

from connectors.base import ConnectorKind, Page, RawRecord, register_kind
from connectors.erp.client import NetSuiteClient
from connectors.http import build_http_client

TIMEOUT_SECONDS = 20.0


@register_kind
class NetSuiteKind(ConnectorKind):
    key = "netsuite"
    label = "NetSuite (ERP, outbound posting)"
    streams = ()
    credential_fields = {
        "account_id": "Account id",
        "consumer_key": "Consumer key",
        "consumer_secret": "Consumer secret",
        "token_id": "Token id",
        "token_secret": "Token secret",
    }
    needs_base_url = True
    timeout: float = TIMEOUT_SECONDS

    def __init__(self, connector):
        super().__init__(connector)
        self._client: NetSuiteClient | None = None
        self._http = None

    def client(self) -> NetSuiteClient:
        if self._client is None:
            credentials = (
                self.connector.credentials.reveal() if self.connector.credentials is not None else {}
            ) or {}
            self._http = build_http_client(self.connector.base_url, timeout=self.timeout)
            self._client = NetSuiteClient(self.connector.base_url, credentials, http_client=self._http)
        return self._client

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self._http = self._client = None

    def test_connection(self) -> str:
        return self.client().test_connection()

    def fetch(self, stream: str, cursor: dict[str, Any] | None, *, full: bool) -> Page:
        return Page([], None, done=True)  # an outbound target has nothing to sync

    def map(self, raw: RawRecord):
        return None
