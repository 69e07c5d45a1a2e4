"""The exception items of one quote-to-cash flow, for the Flow page (registered
with revops in ExceptionsQueueConfig.ready)."""

from __future__ import annotations

from django.urls import reverse

from exceptions_queue.models import OPEN_STATUSES, ExceptionItem
from revops.selectors.flow_sources import FlowException

ITEMS_SHOWN = 100


def items_for_correlation(correlation_id) -> list[FlowException]:
    """Items sharing the correlation id, open ones first, then newest first."""
    items = ExceptionItem.objects.filter(correlation_id=correlation_id).order_by("-first_seen_at", "-id")
    found = [
        FlowException(
            id=item.pk,
            code=item.code,
            title=item.title,
            status=item.status,
            status_label=item.get_status_display(),
            is_open=item.status in OPEN_STATUSES,
            opened_at=item.first_seen_at,
            url=reverse("exceptions_queue:detail", args=[item.pk]),
        )
        for item in items[:ITEMS_SHOWN]
    ]
    return sorted(found, key=lambda item: not item.is_open)
