"""What every outbound posting shares, whichever system it goes to.

An `OutboundPosting` is sent the same way to an ERP (`connectors.posting`) and to
the tax engine (`connectors.avalara.commits`): claimed with a conditional update,
its outcome saved field by field, retried by a one-off schedule, dead-lettered or
refused into an exception item keyed by (step, posting), resubmitted from that
item, and handed back to the queue when its worker died. The senders differ in
what they send and how they name it; these helpers take those differences as
arguments.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.models import Schedule

from connectors.erp.client import UncertainOutcome, json_default
from connectors.errors import BusinessError, ConnectorError, TransientError, backoff_delay, sanitize
from connectors.models import Connector, OutboundPosting
from exceptions_queue.registry import RESUBMIT_PENDING, ResubmitFailed
from revops.actors import Actor

S = OutboundPosting.Status
CLAIMABLE = (S.PENDING, S.UNCERTAIN)


def system_actor(connector: Connector) -> Actor:
    return Actor.for_system(connector.kind, f"connector {connector.name}")


def claim(posting_id: int) -> tuple[OutboundPosting | None, str]:
    """Claim a pending or uncertain posting (or one whose worker died while posting)
    with one conditional update; (posting, "") or (None, the status that kept it)."""
    stale = timezone.now() - dt.timedelta(seconds=settings.Q_TIMEOUT)
    claimed = OutboundPosting.objects.filter(
        Q(status__in=CLAIMABLE) | Q(status=S.POSTING, claimed_at__lt=stale), pk=posting_id
    ).update(
        status=S.POSTING, claimed_at=timezone.now(), attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        status = OutboundPosting.objects.filter(pk=posting_id).values_list("status", flat=True).first()
        return None, status or ""
    posting = OutboundPosting.objects.select_related(
        "connector", "connector__erp_mapping", "connector__legal_entity"
    ).get(pk=posting_id)
    return posting, ""


def save(posting: OutboundPosting, **values) -> None:
    values["updated_at"] = timezone.now()
    values.setdefault("request", posting.request)
    OutboundPosting.objects.filter(pk=posting.pk).update(**values)
    for name, value in values.items():
        setattr(posting, name, value)


def jsonable(body: dict[str, Any]) -> dict[str, Any]:
    """The body as JSON sends it (dates as ISO strings, money as numbers), to keep and to correct."""
    return json.loads(json.dumps(body, default=json_default))


def retry_at(posting: OutboundPosting, exc: TransientError) -> dt.datetime:
    delay = backoff_delay(
        max(posting.attempts - 1, 0), cap=float(settings.REVOPS_SYNC_BACKOFF_CAP), retry_after=exc.retry_after
    )
    return timezone.now() + dt.timedelta(seconds=delay)


def schedule_retry(posting: OutboundPosting, when: dt.datetime, *, func: str, label: str) -> None:
    """Retry by rescheduling `func` (the sender's task), never by sleeping in a worker."""
    Schedule.objects.create(
        name=f"retry {label} {posting.pk} attempt {posting.attempts + 1}",
        func=func,
        args=str(posting.pk),
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=when,
    )


def open_item(
    posting: OutboundPosting, *, step_key: str, code: str, exc: ConnectorError, title: str, subject, rows=()
) -> int:
    """The exception item of a refused or dead-lettered posting (one per step and posting)."""
    from exceptions_queue.services import exception_open

    item, _ = exception_open(
        code=code,
        dedupe_key=f"{step_key}:{posting.pk}",
        title=title,
        message=exc.message,
        step_key=step_key,
        actor=system_actor(posting.connector),
        source_system=posting.connector.kind,
        connector_id=posting.connector_id,
        connector_name=posting.connector.name,
        subject=subject,
        correlation_id=posting.correlation_id,
        payload=posting.request.get("body") or {},
        error_details=list(rows) or [{"field": "", "message": exc.message}],
        external_id=posting.external_id,
    )
    return item.pk


def resolve_item(posting: OutboundPosting, *, step_key: str, note: str) -> None:
    """A posting whose earlier attempt opened an item went through: close the item."""
    if not posting.exception_item_id:
        return
    from exceptions_queue.services import exception_resolve_if_open

    exception_resolve_if_open(
        dedupe_key=f"{step_key}:{posting.pk}", actor=system_actor(posting.connector), note=note
    )


def fail(posting: OutboundPosting, exc: ConnectorError, *, open_item: Callable[..., int]) -> str:
    """Give up on the posting: FAILED, with a DEAD_LETTER item opened by the sender's `open_item`."""
    save(posting, status=S.FAILED, last_error=exc.message, next_attempt_at=None)
    save(posting, exception_item_id=open_item(posting, code="DEAD_LETTER", exc=exc))
    return S.FAILED


def reject(
    posting: OutboundPosting, exc: BusinessError, *, code: str, open_item: Callable[..., int], **values
) -> str:
    """The target refused the posting: REJECTED (plus the sender's own `values`), with a `code` item."""
    save(posting, status=S.REJECTED, last_error=exc.message, response=sanitize(exc.to_dict()), **values)
    save(posting, exception_item_id=open_item(posting, code=code, exc=exc, rows=exc.error_rows()))
    return S.REJECTED


def resubmittable(item, *, noun: str) -> OutboundPosting | None:
    """The posting an exception item is about, locked; None when it is already posted."""
    posting_id = int(item.dedupe_key.rpartition(":")[2])
    posting = OutboundPosting.objects.select_for_update().select_related("connector").get(pk=posting_id)
    if posting.status == S.POSTED:
        return None
    if posting.status not in (S.REJECTED, S.FAILED):
        raise ResubmitFailed(f"This {noun} is {posting.get_status_display().lower()}; nothing to resubmit.")
    return posting


def resubmit_attempt(
    posting: OutboundPosting,
    *,
    attempt: Callable[[OutboundPosting, Any], str],
    enqueue: Callable[[int], None],
    busy: str,
):
    """Claim the (reset) posting and make one attempt inside the resubmission. A
    transient failure hands it to the worker; any other is the resubmission's error."""
    from connectors.base import get_kind

    claimed, _ = claim(posting.pk)
    if claimed is None:
        raise ResubmitFailed(busy)
    kind = get_kind(claimed.connector.kind)(claimed.connector)
    try:
        attempt(claimed, kind)
    except TransientError as exc:
        status = S.UNCERTAIN if isinstance(exc, UncertainOutcome) else S.PENDING
        save(claimed, status=status, last_error=exc.message)
        transaction.on_commit(lambda: enqueue(claimed.pk))
        return RESUBMIT_PENDING
    except ConnectorError as exc:
        rows = exc.error_rows() if isinstance(exc, BusinessError) else [{"field": "", "message": exc.message}]
        raise ResubmitFailed(exc.message, rows) from None
    finally:
        kind.close()
    return None


def resume_stale(kinds, enqueue: Callable[[int], None]) -> int:
    """Hand the postings to `kinds` whose worker died (or whose task was lost) back to the queue."""
    stale = timezone.now() - dt.timedelta(seconds=settings.Q_TIMEOUT)
    due = (
        OutboundPosting.objects.filter(connector__kind__in=kinds)
        .filter(
            Q(status=S.POSTING, claimed_at__lt=stale)
            | Q(status__in=CLAIMABLE, next_attempt_at__lt=stale)
            | Q(status=S.PENDING, attempts=0, created_at__lt=stale)
        )
        .values_list("pk", flat=True)
    )
    count = 0
    for posting_id in due[:1000]:
        enqueue(posting_id)
        count += 1
    return count
