"""Reads for exception items. The triage pages build on `item_list`."""

from __future__ import annotations

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from exceptions_queue.models import OPEN_STATUSES, ExceptionItem

OPEN = "open"  # a status filter meaning new, in review or resubmitted


def open_items_for(subject: models.Model) -> QuerySet[ExceptionItem]:
    """The open items concerning one canonical object, newest first."""
    return ExceptionItem.objects.filter(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        status__in=OPEN_STATUSES,
    ).order_by("-last_seen_at", "-id")


def item_list(
    *,
    status: str | None = None,
    code: str | None = None,
    assignee_id: int | None = None,
    legal_entity_id: int | None = None,
    connector_id: int | None = None,
    correlation_id: uuid.UUID | str | None = None,
) -> QuerySet[ExceptionItem]:
    """Items newest first, filtered; `status="open"` means any open status."""
    qs = ExceptionItem.objects.select_related("assignee", "team", "legal_entity")
    if status == OPEN:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if code:
        qs = qs.filter(code=code)
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    if legal_entity_id:
        qs = qs.filter(legal_entity_id=legal_entity_id)
    if connector_id:
        qs = qs.filter(connector_id=connector_id)
    if correlation_id:
        qs = qs.filter(correlation_id=correlation_id)
    return qs.order_by("-last_seen_at", "-id")


def open_item_for_key(dedupe_key: str) -> ExceptionItem | None:
    return ExceptionItem.objects.filter(dedupe_key=dedupe_key, status__in=OPEN_STATUSES).first()
