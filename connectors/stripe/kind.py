"""The Stripe connector kind: what to read, in which order, and how cursors move.

A first run (or a full sync) lists every object type through the list endpoints
with `starting_after` paging, in dependency order (customers before the
invoices that name them). Once every list is done, later runs read the events
API from where the lists started (`created[gte]`). Events are read completely
up to a bound, then sorted by (created, id) before they are processed, so the
cursor logic works whether the server lists newest-first (Stripe) or
oldest-first (localstripe); the boundary second is read again and the raw store
recognises what it already holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from connectors.base import HttpKind, Page, RawRecord, WebhookRejected, register_kind
from connectors.errors import BusinessError
from connectors.stripe.client import StripeClient
from connectors.stripe.mapping import IGNORED_EVENT_TYPES, MAPPERS, OBJECT_TYPES, _event_version, map_event
from connectors.stripe.signature import SignatureError, verify_stripe_signature

EVENTS = "event"
# canonical stream → (list path, fallback path when the server lacks the first, extra params)
LISTS: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "customer": ("/v1/customers", None, {}),
    "product": ("/v1/products", None, {}),
    "price": ("/v1/prices", "/v1/plans", {}),
    "contract": ("/v1/subscriptions", None, {"status": "all"}),
    "invoice": ("/v1/invoices", None, {}),
    "payment": ("/v1/payment_intents", None, {}),
    "refund": ("/v1/refunds", None, {}),
    "credit_note": ("/v1/credit_notes", None, {}),
}
MAX_PAGE_SIZE = 100  # Stripe's ceiling
EVENT_BATCH = 2000  # events handed to the pipeline per page, oldest first
EVENT_READ_LIMIT = 50_000  # events read per fetch before sorting; the rest waits for the next page
EVENT_OVERLAP_SECONDS = 1


@register_kind
class StripeKind(HttpKind):
    key = "stripe"
    label = "Stripe"
    streams = (*LISTS, EVENTS)
    credential_fields = {"api_key": "Secret key (sk_live_… or sk_test_…)"}
    supports_webhooks = True
    default_base_url = "https://api.stripe.com"
    payload_paths = {
        "invoice": {
            "customer_external_id": "customer",
            "contract_external_id": "subscription",
            "total": "total",
            "currency": "currency",
            "number": "number",
        },
        "contract": {"customer_external_id": "customer", "currency": "currency"},
        "payment": {
            "customer_external_id": "customer",
            "invoice_external_id": "invoice",
            "currency": "currency",
        },
        "credit_note": {"invoice_external_id": "invoice", "number": "number"},
        "price": {"product_external_id": "product", "currency": "currency"},
    }

    def make_client(self, base_url: str, credentials: dict[str, Any], http_client) -> StripeClient:
        return StripeClient(base_url, credentials.get("api_key", ""), http_client=http_client)

    # -- reading -------------------------------------------------------------------------------

    def fetch(self, stream: str, cursor: dict[str, Any] | None, *, full: bool) -> Page:
        if stream == EVENTS:
            return self._fetch_events(cursor, full=full)
        return self._fetch_list(stream, cursor, full=full)

    def _fetch_list(self, stream: str, cursor: dict | None, *, full: bool) -> Page:
        cursor = dict(cursor or {})
        if cursor.get("mode") == "listed" and not full:
            return Page([], cursor, done=True)  # listed once; the events stream carries changes now
        path = cursor.get("path") or LISTS[stream][0]
        params = LISTS[stream][2]
        started = cursor.get("started_at") or int(time.time())
        try:
            data, has_more = self.client().list(
                path,
                starting_after=cursor.get("starting_after"),
                limit=min(settings.REVOPS_SYNC_PAGE_SIZE, MAX_PAGE_SIZE),
                params=params,
            )
        except BusinessError:
            fallback = LISTS[stream][1]
            if path == LISTS[stream][0] and fallback:
                return self._fetch_list(
                    stream, {**cursor, "path": fallback, "started_at": started}, full=full
                )
            if stream == "credit_note" and not cursor.get("starting_after"):
                # A Stripe without credit notes (e.g. a local test server): nothing to read.
                return Page([], {"mode": "listed", "started_at": started}, done=True)
            raise
        snapshot = f"{int(time.time()):012d}"
        records = [
            self._listed(stream, obj, snapshot) for obj in data if isinstance(obj, dict) and obj.get("id")
        ]
        request = {"method": "GET", "path": path, "starting_after": cursor.get("starting_after")}
        if has_more and data:
            next_cursor = {
                "mode": "listing",
                "path": path,
                "starting_after": data[-1]["id"],
                "started_at": started,
            }
            return Page(records, next_cursor, done=False, request=request)
        return Page(records, {"mode": "listed", "started_at": started}, done=True, request=request)

    def _listed(self, stream: str, obj: dict, snapshot: str) -> RawRecord:
        if stream == "invoice":
            obj = self._with_all_lines(obj)
        # A listed object is the state at the time of listing: newer than any
        # event created before it, older than any event after it.
        return RawRecord(stream, obj["id"], obj, source_type=str(obj.get("object", stream)), version=snapshot)

    def _with_all_lines(self, invoice: dict) -> dict:
        lines = invoice.get("lines")
        if isinstance(lines, dict) and lines.get("has_more"):
            every = list(self.client().list_all(f"/v1/invoices/{invoice['id']}/lines"))
            invoice = {**invoice, "lines": {**lines, "data": every, "has_more": False}}
        return invoice

    def _fetch_events(self, cursor: dict | None, *, full: bool) -> Page:
        cursor = dict(cursor or {})
        since = cursor.get("created_gte")
        if since is None:
            # No events cursor yet: start where this run's lists started.
            starts = [c.get("started_at") for c in self._list_cursors() if c.get("started_at")]
            since = min(starts) if starts else int(time.time())
        events = []
        for event in self.client().list_all("/v1/events", params={"created[gte]": since}):
            events.append(event)
            if len(events) >= EVENT_READ_LIMIT:
                break
        events.sort(key=lambda e: (e.get("created", 0), e.get("id", "")))
        batch = events[:EVENT_BATCH]
        records = [record for event in batch if (record := self.event_record(event)) is not None]
        newest = max((e.get("created", since) for e in batch), default=since)
        done = len(events) <= EVENT_BATCH
        next_since = newest if done else batch[-1].get("created", since)
        next_cursor = {"created_gte": max(since, next_since - (EVENT_OVERLAP_SECONDS if done else 0))}
        request = {"method": "GET", "path": "/v1/events", "created[gte]": since}
        return Page(records, next_cursor, done=done, request=request)

    def _list_cursors(self) -> list[dict]:
        from connectors.models import SyncCursor

        values = SyncCursor.objects.filter(connector=self.connector, stream__in=list(LISTS)).values_list(
            "value", flat=True
        )
        return [v for v in values if isinstance(v, dict)]

    def event_record(self, event: dict) -> RawRecord | None:
        obj = (event.get("data") or {}).get("object")
        if (
            not isinstance(obj, dict)
            or obj.get("object") not in MAPPERS
            or event.get("type") in IGNORED_EVENT_TYPES
        ):
            return None
        if not isinstance(obj.get("id"), str):
            return None
        return RawRecord(
            OBJECT_TYPES[obj["object"]], obj["id"], event, source_type="event", version=_event_version(event)
        )

    def map(self, raw: RawRecord):
        if raw.source_type == "event":
            return map_event(raw.payload)[1]
        return MAPPERS[raw.source_type](raw.payload)

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        secret = self.connector.webhook_secret.reveal() if self.connector.webhook_secret is not None else ""
        try:
            verify_stripe_signature(body, headers.get("Stripe-Signature"), [secret] if secret else [])
        except SignatureError as exc:
            raise WebhookRejected(f"Stripe signature refused: {exc.reason}") from None
        try:
            event = json.loads(body)
        except ValueError:
            raise WebhookRejected("the body is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise WebhookRejected("the body is not a Stripe event")
        return event

    def webhook_event_id(self, event: dict[str, Any]) -> tuple[str, str]:
        return event["id"], str(event.get("type", ""))

    def webhook_records(self, event: dict[str, Any]) -> list[RawRecord]:
        record = self.event_record(event)
        return [record] if record is not None else []
