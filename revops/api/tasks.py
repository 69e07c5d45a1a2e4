"""Housekeeping for the API: idempotency keys are remembered for
REVOPS_API_IDEMPOTENCY_HOURS (a retry comes within minutes; Stripe keeps a day),
then forgotten by a daily task, so the table stays small."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from revops.models import IdempotencyRecord

logger = logging.getLogger(__name__)


def forget_idempotency_keys(*, now: dt.datetime | None = None) -> int:
    """Delete the answers kept for keys older than the retention (idempotent:
    a second run finds nothing more to delete)."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.REVOPS_API_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    logger.info("forgot %d idempotency key(s) older than %s", deleted, cutoff.isoformat())
    return deleted
