"""The HubSpot connector kind: what to read, in which order, and how cursors move.

Streams, in dependency order: companies → customers, products → products, deals
(with their companies and line items) → contracts.

A first run (or a full sync) lists each object type through
`GET /crm/v3/objects/<type>` with `after` paging and remembers when the listing
started. Later runs ask the search API for objects whose `hs_lastmodifieddate`
is at or after the newest one seen (`GTE`, oldest first): the boundary
millisecond is read again and the raw store recognises what it already holds.
HubSpot's search pages stop at 10,000 results, so a long catch-up starts a new
search from the newest modification reached instead of paging past that.

Deals: a closed-won deal becomes an active contract starting on its close date;
a later change of its line items amends the contract (see `mapping`); a deal
moved to closed lost cancels its contract. Open deals, and lost deals revops
never held, are read and stored but make no contract.

Webhooks (v3 signatures only) carry ids, not objects: each delivery's objects
are read from the API when the delivery is processed, a deal with its company,
line items and products, so a deal won for a new company needs no sync first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.urls import reverse

from connectors.base import HttpKind, Page, RawRecord, WebhookRejected, register_kind
from connectors.errors import BusinessError
from connectors.hubspot import mapping
from connectors.hubspot.client import MAX_LIMIT, HubSpotClient
from connectors.hubspot.signature import SignatureError, verify_v3

# canonical stream → (HubSpot object type, properties, associations, source type)
STREAMS: dict[str, tuple[str, list[str], list[str], str]] = {
    "customer": ("companies", mapping.COMPANY_PROPERTIES, [], "company"),
    "product": ("products", mapping.PRODUCT_PROPERTIES, [], "product"),
    "contract": ("deals", mapping.DEAL_PROPERTIES, mapping.DEAL_ASSOCIATIONS, "deal"),
}
SEARCH_WINDOW = 10_000  # HubSpot's search API pages no further than this
CLOCK_MARGIN_MS = 5 * 60 * 1000  # objects read twice are recognised by the raw store
EVENT_OBJECTS = {"company": "customer", "product": "product", "deal": "contract", "line_item": "line_item"}


@register_kind
class HubSpotKind(HttpKind):
    key = "hubspot"
    label = "HubSpot"
    streams = tuple(STREAMS)
    credential_fields = {"access_token": "Private app access token (pat-…)"}
    supports_webhooks = True
    default_base_url = "https://api.hubapi.com"
    payload_paths = {
        "customer": {"name": "properties.name", "country": "properties.country"},
        "contract": {
            "customer_external_id": "associations.companies.results.0.id",
            "currency": "properties.deal_currency_code",
            "product_external_id": "line_items.0.properties.hs_product_id",
            "status": "properties.dealstage",
            "start_date": "properties.closedate",
            "effective_date": "properties.revops_amendment_date",
        },
        "product": {"name": "properties.name", "sku": "properties.hs_sku"},
    }

    def make_client(self, base_url: str, credentials: dict[str, Any], http_client) -> HubSpotClient:
        return HubSpotClient(base_url, credentials.get("access_token", ""), http_client=http_client)

    # -- reading -------------------------------------------------------------------------------

    def fetch(self, stream: str, cursor: dict[str, Any] | None, *, full: bool) -> Page:
        cursor = dict(cursor or {})
        if full and cursor.get("mode") not in (None, "listing"):
            cursor = {}
        if cursor.get("mode") in ("listed", "searching"):
            return self._search(stream, cursor)
        return self._list(stream, cursor)

    def _page_size(self) -> int:
        return max(1, min(settings.REVOPS_SYNC_PAGE_SIZE, MAX_LIMIT))

    def _list(self, stream: str, cursor: dict) -> Page:
        object_type, properties, associations, _ = STREAMS[stream]
        started = cursor.get("started_at") or int(time.time() * 1000)
        after = cursor.get("after")
        results, next_after = self.client().list(
            object_type,
            properties=properties,
            associations=associations,
            after=after,
            limit=self._page_size(),
        )
        records = self._records(stream, results)
        request = {"method": "GET", "path": f"/crm/v3/objects/{object_type}", "after": after}
        if next_after and results:
            return Page(
                records, {"mode": "listing", "after": next_after, "started_at": started}, False, request
            )
        # Changes made while listing are found by the next run's search from `started`,
        # less a margin for the clocks of revops and HubSpot differing.
        return Page(records, {"mode": "listed", "since": started - CLOCK_MARGIN_MS}, True, request)

    def _search(self, stream: str, cursor: dict) -> Page:
        object_type, properties, _, _ = STREAMS[stream]
        since = int(cursor.get("since") or 0)
        after = cursor.get("after")
        newest = int(cursor.get("newest") or since)
        found, next_after = self.client().search_modified(
            object_type, since_ms=since, properties=properties, after=after, limit=self._page_size()
        )
        # The cursor moves by what the search saw: an object read again below may
        # be newer still, and moving past its time could skip another's change.
        for obj in found:
            modified = _modified_ms(obj)
            if modified is not None:
                newest = max(newest, modified)
        results = found
        if stream == "contract":
            # Search results carry no associations: read each deal with them (one
            # deleted since the search is left for its deletion to say).
            results = [
                deal
                for hit in found
                if (
                    deal := self._read(
                        "deals", hit["id"], properties, mapping.DEAL_ASSOCIATIONS, archived=False
                    )
                )
            ]
        records = self._records(stream, results)
        request = {
            "method": "POST",
            "path": f"/crm/v3/objects/{object_type}/search",
            "since": since,
            "after": after,
        }
        if next_after and found:
            if next_after.isdigit() and int(next_after) + self._page_size() > SEARCH_WINDOW:
                return Page(records, {"mode": "searching", "since": newest}, False, request)
            next_cursor = {"mode": "searching", "since": since, "after": next_after, "newest": newest}
            return Page(records, next_cursor, False, request)
        return Page(records, {"mode": "listed", "since": newest}, True, request)

    def _records(self, stream: str, results: list[dict]) -> list[RawRecord]:
        if stream == "contract":
            results = self.with_line_items(results)
        source_type = STREAMS[stream][3]
        return [self.raw_record(stream, source_type, obj) for obj in results]

    def raw_record(self, stream: str, source_type: str, obj: dict) -> RawRecord:
        stamps = [_modified_ms(obj)] + [_modified_ms(item) for item in obj.get("line_items") or []]
        newest = max((s for s in stamps if s is not None), default=None)
        version = f"{newest:015d}" if newest is not None else ""
        return RawRecord(stream, obj["id"], obj, source_type=source_type, version=version)

    def with_line_items(self, deals: list[dict]) -> list[dict]:
        """Each deal with its line item objects under `line_items`, in association order."""
        wanted: dict[str, list[str]] = {}
        for deal in deals:
            associated = deal.get("associations") or {}
            # HubSpot names the association "line items" in some answers, "line_items" in others.
            entries = (
                mapping.dig(associated, "line_items.results")
                or mapping.dig(associated, "line items.results")
                or []
            )
            wanted[deal["id"]] = [str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id")]
        every = [i for ids in wanted.values() for i in ids]
        found = {}
        if every:
            items = self.client().batch_read("line_items", every, properties=mapping.LINE_ITEM_PROPERTIES)
            found = {item["id"]: item for item in items}
        return [
            {**deal, "line_items": [found[i] for i in wanted[deal["id"]] if i in found]} for deal in deals
        ]

    def map(self, raw: RawRecord):
        record = mapping.MAPPERS[raw.source_type](raw.payload)
        # A deal becomes a contract when it is won. An open deal's close date is only
        # expected (a draft could not move its start later), and a lost deal that
        # never became a contract has nothing to record. A contract revops already
        # holds follows its deal whatever the stage: lost cancels it.
        if raw.source_type == "deal" and record.status != "active" and not self._known("contract", raw):
            return None
        return record

    def _known(self, object_type: str, raw: RawRecord) -> bool:
        from revops.selectors.refs import find_by_external_id

        found = find_by_external_id(
            system=self.system(), object_type=object_type, external_id=raw.external_id
        )
        return found is not None

    # -- webhooks -----------------------------------------------------------------------------

    def webhook_uris(self, headers: Mapping[str, str]) -> list[str]:
        """The addresses HubSpot may have signed: the configured public address, and
        the host the request came to (behind a proxy the scheme is not known)."""
        path = reverse("webhook", kwargs={"name": self.connector.name})
        uris = [settings.REVOPS_BASE_URL + path]
        host = (headers.get("Host") or "").strip()
        if host and "/" not in host and " " not in host:
            uris += [f"https://{host}{path}", f"http://{host}{path}"]
        return uris

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        secret = self.connector.webhook_secret.reveal() if self.connector.webhook_secret is not None else ""
        try:
            verify_v3(
                secret=secret or "",
                method="POST",
                uris=self.webhook_uris(headers),
                body=body,
                signature=headers.get("X-HubSpot-Signature-v3"),
                timestamp=headers.get("X-HubSpot-Request-Timestamp"),
            )
        except SignatureError as exc:
            raise WebhookRejected(f"HubSpot signature refused: {exc.reason}") from None
        try:
            events = json.loads(body)
        except ValueError:
            raise WebhookRejected("the body is not JSON") from None
        if isinstance(events, dict):
            events = [events]
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, dict) and isinstance(e.get("eventId"), int | str) for e in events)
        ):
            raise WebhookRejected("the body is not a list of HubSpot events")
        return {"events": events}

    def webhook_event_id(self, event: dict[str, Any]) -> tuple[str, str]:
        ids = sorted(str(e["eventId"]) for e in event["events"])
        types = sorted({str(e.get("subscriptionType", "")) for e in event["events"]})
        joined = ",".join(ids)
        if len(joined) > 200:
            joined = f"batch-{hashlib.sha256(joined.encode()).hexdigest()}"
        return joined, ",".join(types)[:100]

    def webhook_records(self, event: dict[str, Any]) -> list[RawRecord]:
        wanted: dict[str, dict[str, bool]] = {"customer": {}, "product": {}, "contract": {}, "line_item": {}}
        for entry in event.get("events", []):
            kind_name, _, action = str(entry.get("subscriptionType", "")).partition(".")
            stream = EVENT_OBJECTS.get(kind_name)
            object_id = entry.get("objectId")
            if stream is None or object_id in (None, ""):
                continue
            archived = action == "deletion"
            wanted[stream][str(object_id)] = wanted[stream].get(str(object_id), False) or archived
        for line_item_id in wanted.pop("line_item"):
            for deal_id in self._deals_of_line_item(line_item_id):
                wanted["contract"].setdefault(deal_id, False)
        deals = self.with_line_items(self._read_all("contract", wanted["contract"]))
        # A deal's company and products come along (read again if revops has them,
        # which the raw store recognises): a deal won for a company created since the
        # last sync then becomes a contract without waiting for the next sync.
        for deal in deals:
            for entry in mapping.dig(deal, "associations.companies.results") or []:
                if isinstance(entry, dict) and entry.get("id"):
                    wanted["customer"].setdefault(str(entry["id"]), False)
            for item in deal.get("line_items") or []:
                product_id = mapping.dig(item, "properties.hs_product_id")
                if product_id:
                    wanted["product"].setdefault(str(product_id), False)
        records: list[RawRecord] = []
        for stream in ("customer", "product"):
            source_type = STREAMS[stream][3]
            records += [
                self.raw_record(stream, source_type, obj) for obj in self._read_all(stream, wanted[stream])
            ]
        return records + [self.raw_record("contract", "deal", deal) for deal in deals]

    def _read_all(self, stream: str, wanted: dict[str, bool]) -> list[dict]:
        object_type, properties, associations, _ = STREAMS[stream]
        found = []
        for object_id, archived in wanted.items():
            obj = self._read(object_type, object_id, properties, associations, archived=archived)
            if obj is not None:
                found.append(obj)
        return found

    def _read(self, object_type, object_id, properties, associations, *, archived: bool) -> dict | None:
        try:
            return self.client().read(
                object_type, object_id, properties=properties, associations=associations, archived=archived
            )
        except BusinessError as exc:
            if exc.details.get("status") == 404:
                return None  # gone since the event: a later event or sync says what became of it
            raise

    def _deals_of_line_item(self, line_item_id: str) -> list[str]:
        item = self._read("line_items", line_item_id, ["hs_product_id"], ["deals"], archived=False)
        entries = (mapping.dig(item, "associations.deals.results") or []) if item else []
        return [str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id")]


def _modified_ms(obj: dict) -> int | None:
    props = obj.get("properties") if isinstance(obj, dict) else None
    value = props.get("hs_lastmodifieddate") if isinstance(props, dict) else None
    if value is None and isinstance(obj, dict):
        value = obj.get("updatedAt")
    if not isinstance(value, str) or not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)
