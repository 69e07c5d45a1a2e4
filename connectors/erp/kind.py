"""The NetSuite connector kind: an outbound target, not a data source.

It has no sync streams; `connectors.posting` posts revops's invoices, voids and
payment applications through `client()`. Test connection reads one customer.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
from django.conf import settings

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
            http = _shared_http(self.connector.base_url, self.timeout)
            self._client = NetSuiteClient(self.connector.base_url, credentials, http_client=http)
        return self._client

    def close(self) -> None:
        self._client = None  # the HTTP client and its connections stay for the next posting

    def test_connection(self) -> str:
        return self.client().test_connection()

    def fetch(self, stream: str, cursor: dict[str, Any] | None, *, full: bool) -> Page:
        return Page([], None, done=True)  # an outbound target has nothing to sync

    def map(self, raw: RawRecord):
        return None


_HTTP: dict[tuple, httpx.Client] = {}
_HTTP_LOCK = threading.Lock()


def _shared_http(base_url: str, timeout: float) -> httpx.Client:
    """One SSRF-safe HTTP client per ERP address and worker process: building one
    (TLS context, pools) costs more than a posting, and the credentials travel
    per request, so postings share it and reuse its connections."""
    key = (base_url, timeout, tuple(settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS or ()))
    with _HTTP_LOCK:
        client = _HTTP.get(key)
        if client is None:
            client = _HTTP[key] = build_http_client(base_url, timeout=timeout)
        return client
