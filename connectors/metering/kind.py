"""The "metering" connector kind: a metering system pushes usage events to the
connector's webhook (/webhooks/<connector name>/) as signed JSON batches.

A delivery is {"id": "<batch id>", "events": [<event>, ...]} (events as in
`connectors.metering.mapping`), signed like Stripe's webhooks: a
`Revops-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>` header
keyed with the connector's webhook secret, refused more than five minutes away
from now. The body is limited to REVOPS_WEBHOOK_MAX_BYTES and a batch to
MAX_EVENTS events. An accepted batch is answered 202 with its event count, then
each event goes through the pipeline as a usage record: idempotent on its event
id, checked against the billing cutoff (late usage opens LATE_USAGE), bad events
becoming exception items without holding back the rest. A batch id delivered
again is answered "duplicate" and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connectors.base import ConnectorKind, Page, RawRecord, WebhookRejected, register_kind
from connectors.metering import mapping
from connectors.stripe.signature import SignatureError, verify_stripe_signature

SIGNATURE_HEADER = "Revops-Signature"
MAX_EVENTS = 5000


@register_kind
class MeteringKind(ConnectorKind):
    key = "metering"
    label = "Metering (usage pushed as signed JSON)"
    streams = ("usage",)
    supports_webhooks = True
    needs_base_url = False
    payload_paths = {
        "usage": {
            "contract_external_id": "contract",
            "product_external_id": "product",
            "quantity": "quantity",
            "usage_at": "timestamp",
            "timestamp": "timestamp",
        }
    }

    def test_connection(self) -> str:
        return "Metering pushes usage to this connector's webhook; there is nothing to call."

    def fetch(self, stream: str, cursor: dict[str, Any] | None, *, full: bool) -> Page:
        return Page([], cursor, done=True)  # push only: usage arrives by webhook

    def map(self, raw: RawRecord) -> object:
        return mapping.map_usage(raw.payload)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        secret = self.connector.webhook_secret.reveal() if self.connector.webhook_secret is not None else ""
        try:
            verify_stripe_signature(body, headers.get(SIGNATURE_HEADER), [secret] if secret else [])
        except SignatureError as exc:
            raise WebhookRejected(f"{SIGNATURE_HEADER} refused: {exc.reason}") from None
        try:
            batch = json.loads(body)
        except ValueError:
            raise WebhookRejected("the body is not JSON") from None
        if not isinstance(batch, dict) or not isinstance(batch.get("id"), str) or not batch["id"].strip():
            raise WebhookRejected('the body is not a usage batch: {"id": "...", "events": [...]}')
        events = batch.get("events")
        if not isinstance(events, list) or not events:
            raise WebhookRejected("the batch has no events")
        if len(events) > MAX_EVENTS:
            raise WebhookRejected(f"a batch holds at most {MAX_EVENTS} events, not {len(events)}")
        return batch

    def webhook_event_id(self, event: dict[str, Any]) -> tuple[str, str]:
        return event["id"], "usage.batch"

    def webhook_receipt(self, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 202, {"events": len(event["events"])}

    def webhook_records(self, event: dict[str, Any]) -> list[RawRecord]:
        raws = []
        for index, item in enumerate(event["events"]):
            event_id = item.get("id") if isinstance(item, dict) else None
            external_id = (
                str(event_id).strip()[:255] if event_id not in (None, "") else f"{event['id']}#{index}"
            )
            raws.append(
                RawRecord("usage", external_id, item if isinstance(item, dict) else {"event": item}, "usage")
            )
        return raws
