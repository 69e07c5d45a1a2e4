"""Signed webhook deliveries: verify, store raw, answer fast, process in a task.

The endpoint is the only public URL besides login: it trusts nothing but a valid
signature made with the connector's webhook secret. A bad signature gets a 400,
is logged, and changes nothing. A redelivered event id is acknowledged and
ignored (ids are kept at least REVOPS_WEBHOOK_RETENTION_DAYS days).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from connectors import engine
from connectors.base import WebhookRejected, get_kind
from connectors.models import Connector, WebhookDelivery

logger = logging.getLogger(__name__)

PROCESS_TASK = "connectors.webhooks.process_delivery"


def _refuse(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@login_not_required
@require_POST
def receive(request: HttpRequest, name: str) -> JsonResponse:
    connector = Connector.objects.filter(name=name, enabled=True).select_related("legal_entity").first()
    if connector is None:
        return _refuse(404, "No enabled connector with that name.")
    try:
        kind = get_kind(connector.kind)(connector)
    except LookupError:
        return _refuse(404, "No enabled connector with that name.")
    if not kind.supports_webhooks:
        return _refuse(404, f"{kind.label} connectors do not take webhooks.")
    body = request.body
    if len(body) > settings.REVOPS_WEBHOOK_MAX_BYTES:
        return _refuse(413, f"Webhook bodies are limited to {settings.REVOPS_WEBHOOK_MAX_BYTES} bytes.")
    try:
        event = kind.verify_webhook(body, request.headers)
        event_id, event_type = kind.webhook_event_id(event)
    except WebhookRejected as exc:
        logger.warning("webhook for %s refused: %s", connector.name, exc.reason)
        return _refuse(400, exc.reason)
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                connector=connector, event_id=event_id[:255], event_type=event_type[:100], payload=event
            )
    except IntegrityError:
        return JsonResponse({"status": "duplicate", "event": event_id})
    transaction.on_commit(
        lambda: async_task(PROCESS_TASK, delivery.pk, task_name=f"webhook {connector.name}")
    )
    status, receipt = kind.webhook_receipt(event)
    return JsonResponse({"status": "accepted", "event": event_id, **receipt}, status=status)


def process_delivery(delivery_id: int) -> str:
    """Run a stored delivery's records through the pipeline, once."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("connector__legal_entity")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.RECEIVED)
            .first()
        )
        if delivery is None:
            return "already processed or being processed"
        kind = get_kind(delivery.connector.kind)(delivery.connector)
        try:
            raws = kind.webhook_records(delivery.payload)
            counts = engine.process_records(raws, run=None, kind=kind)
        finally:
            kind.close()
        delivery.status = WebhookDelivery.Status.PROCESSED
        delivery.processed_at = timezone.now()
        delivery.message = ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "no records"
        delivery.save(update_fields=["status", "processed_at", "message"])
    return delivery.message


def forget_old_deliveries() -> int:
    """Delete processed deliveries past the retention period (scheduled daily)."""
    cutoff = timezone.now() - timezone.timedelta(days=settings.REVOPS_WEBHOOK_RETENTION_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(
        received_at__lt=cutoff, status=WebhookDelivery.Status.PROCESSED
    ).delete()
    return deleted
