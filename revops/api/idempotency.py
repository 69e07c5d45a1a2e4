"""Idempotency keys for API writes (as Stripe's API has them).

A write sent with `Idempotency-Key: <key>` is answered once: the first answer
(any status below 500) is kept, and a retry with the same key and the same
request gets that answer again, with `Idempotent-Replayed: true`, without
running anything twice. The same key with a different method, path or body is
refused with 422; a retry while the first request is still being answered
gets 409. Keys belong to the user (every token of one user shares them). A
first request that ended in a server error keeps nothing, so it can be retried.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from revops.api.errors import IdempotencyConflict, IdempotencyInProgress
from revops.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(rf"[!-~]{{1,{MAX_KEY_LENGTH}}}\Z")
# A first request silent this long has lost its process: its key may be used again.
ABANDONED_AFTER = dt.timedelta(minutes=5)


class Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


def request_digest(request) -> str:
    body = request._request.body or b""
    # Same JSON in another key order or spacing is the same request.
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    material = b"\n".join([request.method.encode(), request.path.encode(), body])
    return hashlib.sha256(material).hexdigest()


def key_of(request) -> str | None:
    key = request.META.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise ValidationError(
            {"Idempotency-Key": [f"Use 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces)."]}
        )
    return key


def claim(request) -> IdempotencyRecord | None:
    """The record this write answers into, or raise Replay / a conflict."""
    key = key_of(request)
    if key is None:
        return None
    digest = request_digest(request)
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                request_digest=digest,
                method=request.method,
                path=request.path[:500],
            )
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.get(user=request.user, key=key)
    if existing.request_digest != digest:
        raise IdempotencyConflict(
            f"The Idempotency-Key {key!r} was already used for a different request "
            f"({existing.method} {existing.path} with another body). Use a new key for a new request."
        )
    if existing.status_code is not None:
        raise Replay(existing)
    if timezone.now() - existing.created_at < ABANDONED_AFTER:
        raise IdempotencyInProgress(
            f"A request with the Idempotency-Key {key!r} is still being answered; retry in a few seconds."
        )
    IdempotencyRecord.objects.filter(pk=existing.pk, status_code__isnull=True).update(
        created_at=timezone.now()
    )
    return existing


def remember(record: IdempotencyRecord, response) -> None:
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    data = getattr(response, "data", None)
    body = json.loads(JSONRenderer().render(data)) if data is not None else None
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=response.status_code, response_body=body
    )
