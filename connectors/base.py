"""The connector plugin contract and its registry.

A connector kind lives in `connectors/<vendor>/`: `client.py` talks HTTP,
`mapping.py` turns vendor payloads into `connectors.records` (pure functions),
and a `ConnectorKind` subclass (in the package's `__init__` or `kind.py`) ties
them together and registers itself. A new kind is made by copying a sibling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from connectors.models import Connector


@dataclass(frozen=True)
class RawRecord:
    """One vendor object as read, before mapping."""

    object_type: str  # canonical object type it maps to: customer, product, price, contract, ...
    external_id: str
    payload: dict[str, Any]
    source_type: str = ""  # the vendor's own type, e.g. "payment_intent", for the raw store
    version: str = ""  # orders revisions; "" when the source gives none


@dataclass
class Page:
    """A page of records and the cursor to store once the page is committed.
    `done` says the stream has no more pages for this run."""

    records: list[RawRecord]
    cursor: dict[str, Any] | None
    done: bool
    request: dict[str, Any] = field(default_factory=dict)  # what was asked, for dead letters


class ConnectorKind:
    """Base class of every connector kind. Subclasses set the class attributes
    and implement `fetch`, `map` and `test_connection`."""

    key: ClassVar[str]
    label: ClassVar[str]
    # Streams in the order a sync runs them: what later streams refer to comes first.
    streams: ClassVar[tuple[str, ...]]
    # Which credential fields the configuration form asks for: {name: label}.
    credential_fields: ClassVar[dict[str, str]] = {}
    supports_webhooks: ClassVar[bool] = False
    default_base_url: ClassVar[str] = ""
    needs_base_url: ClassVar[bool] = True

    def __init__(self, connector: Connector):
        self.connector = connector

    # Canonical field names of business errors → dotted paths in this kind's
    # payloads, so the exception queue can offer the right value for correction.
    payload_paths: ClassVar[dict[str, dict[str, str]]] = {}

    def payload_path(self, object_type: str, field: str) -> str:
        """Where `field` of a business error lives in the payload ("" when unknown)."""
        return self.payload_paths.get(object_type, {}).get(field, "")

    # The system name recorded on history, events, ExternalRefs and ownership checks.
    def system(self) -> str:
        return self.key

    def test_connection(self) -> str:
        """Return a short description of what answered, or raise a ConnectorError."""
        raise NotImplementedError

    def fetch(self, stream: str, cursor: dict[str, Any] | None, *, full: bool) -> Page:
        """Read the next page of `stream` after `cursor` (None: from the start)."""
        raise NotImplementedError

    def map(self, raw: RawRecord) -> object:
        """Turn a raw record into a `connectors.records` record (pure).
        Raise `connectors.records.MappingError` for a payload that cannot be mapped."""
        raise NotImplementedError

    def close(self) -> None:
        """Release clients; called at the end of every run."""

    # Webhooks (kinds with supports_webhooks = True).
    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """Check the delivery's signature with the connector's webhook secret and
        return the parsed event; raise `WebhookRejected` with the precise reason."""
        raise NotImplementedError

    def webhook_event_id(self, event: dict[str, Any]) -> tuple[str, str]:
        """(event id, event type) of a verified event."""
        raise NotImplementedError

    def webhook_records(self, event: dict[str, Any]) -> list[RawRecord]:
        """The records a verified event carries, for the pipeline."""
        raise NotImplementedError

    def webhook_receipt(self, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and extra fields of the answer to an accepted delivery."""
        return 200, {}


class HttpKind(ConnectorKind):
    """A kind that talks to its system through one vendor client over the
    project's SSRF-safe httpx client (connectors.http), built on first use
    with the connector's base URL and decrypted credentials, closed by `close`.
    Subclasses say how to build their client in `make_client`."""

    def __init__(self, connector: Connector):
        super().__init__(connector)
        self._client: Any = None
        self._http: Any = None

    def credentials(self) -> dict[str, Any]:
        stored = self.connector.credentials
        return (stored.reveal() if stored is not None else {}) or {}

    def make_client(self, base_url: str, credentials: dict[str, Any], http_client: Any) -> Any:
        raise NotImplementedError

    def client(self) -> Any:
        if self._client is None:
            from connectors.http import build_http_client

            base_url = self.connector.base_url or self.default_base_url
            self._http = build_http_client(base_url)
            self._client = self.make_client(base_url, self.credentials(), self._http)
        return self._client

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self._http = self._client = None

    def test_connection(self) -> str:
        return self.client().test_connection()


class WebhookRejected(Exception):
    """A delivery that is not what it claims: bad or missing signature, stale
    timestamp, unreadable body. `reason` is logged and answered with 400."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_KINDS: dict[str, type[ConnectorKind]] = {}


def register_kind(kind: type[ConnectorKind]) -> type[ConnectorKind]:
    existing = _KINDS.get(kind.key)
    if existing is not None and existing is not kind:
        raise RuntimeError(f"Connector kind {kind.key!r} is registered twice ({existing} and {kind}).")
    _KINDS[kind.key] = kind
    return kind


def get_kind(key: str) -> type[ConnectorKind]:
    try:
        return _KINDS[key]
    except KeyError:
        raise LookupError(
            f"No connector kind {key!r}; known kinds: {', '.join(sorted(_KINDS)) or 'none'}."
        ) from None


def kind_choices() -> list[tuple[str, str]]:
    return [(key, kind.label) for key, kind in sorted(_KINDS.items())]


RecordWriter = Callable[..., Any]


def registered_kinds() -> list[type[ConnectorKind]]:
    return [kind for _, kind in sorted(_KINDS.items())]
