"""The sync engine: fetch a page, store it raw, map, validate and write each
record through the revops services, commit the page with its cursor.

Every record read is accounted for in its run's counts, which the database
checks add up (read = created + updated + unchanged + skipped + business
errors). Consecutive pages are written in one transaction with the cursor
after them (`REVOPS_SYNC_BATCH_RECORDS` records or so): a worker killed
mid-batch loses nothing, because the cursor only moves with the committed
records, and the next delivery of the task resumes the run from there;
records already stored are recognised by their content hash and change
nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from connectors import writers
from connectors.base import ConnectorKind, RawRecord, get_kind
from connectors.errors import BusinessError, ConfigurationError, TransientError, backoff_delay
from connectors.models import (
    ACTIVE_RUN_STATUSES,
    Connector,
    InboundRecord,
    SourceObject,
    SyncCursor,
    SyncRun,
)
from connectors.records import MappingError
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_open, exception_resolve
from revops.actors import Actor

logger = logging.getLogger(__name__)
BATCH_SECONDS = 10.0  # longest a run gathers pages before writing them

Outcome = InboundRecord.Outcome
_COUNTED = {
    Outcome.CREATED: "created",
    Outcome.UPDATED: "updated",
    Outcome.UNCHANGED: "unchanged",
    Outcome.STALE: "unchanged",
    Outcome.SKIPPED: "skipped",
    Outcome.BUSINESS_ERROR: "business_errors",
}


class RunInProgress(Exception):
    def __init__(self, run: SyncRun):
        super().__init__(f"{run.connector.name} already has run {run.pk} {run.get_status_display().lower()}.")
        self.run = run


def content_hash(payload: dict) -> str:
    return hashlib.sha256(payload_json(payload).encode()).hexdigest()


def payload_json(payload: dict) -> str:
    """The payload as the JSON its content hash is taken of (keys sorted, no
    spaces); the bulk path stores this same text in the raw store."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)


def system_actor(connector: Connector, run: SyncRun | None, kind: ConnectorKind, suffix: str = "") -> Actor:
    where = f"run {run.pk}" if run else "webhook"
    return Actor.for_system(kind.system(), f"connector {connector.name}, {where}{suffix}")


def write_context(
    connector: Connector, kind: ConnectorKind, actor: Actor, reason: str
) -> writers.WriteContext:
    return writers.WriteContext(
        system=kind.system(), actor=actor, legal_entity=connector.legal_entity, reason=reason
    )


# -- starting and claiming runs ----------------------------------------------------------------


def run_create(
    *, connector: Connector, trigger: str, full: bool = False, requested_by: str = "", **extra
) -> SyncRun:
    """A queued run, or RunInProgress naming the one already active for the connector."""
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                connector=connector, trigger=trigger, full=full, requested_by=requested_by, **extra
            )
    except IntegrityError:
        active = SyncRun.objects.filter(connector=connector, status__in=ACTIVE_RUN_STATUSES).first()
        if active is None:
            raise
        raise RunInProgress(active) from None


def claim_run(run_id: int) -> SyncRun | None:
    """Take the run for this worker, or None when another worker has it (a
    duplicate delivery) or it is finished. A run whose heartbeat is older than the
    task timeout belonged to a worker that died: it is taken over and resumed."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=settings.Q_TIMEOUT)
    claimed = (
        SyncRun.objects.filter(pk=run_id)
        .filter(Q(status__in=["queued", "retrying"]) | Q(status="running", heartbeat_at__lt=stale))
        .update(
            status=SyncRun.Status.RUNNING,
            heartbeat_at=now,
            started_at=Coalesce(F("started_at"), now),
            attempts=F("attempts") + 1,
            next_retry_at=None,
        )
    )
    if not claimed:
        return None
    return SyncRun.objects.select_related("connector__legal_entity").get(pk=run_id)


# -- the run ----------------------------------------------------------------------------------------


def streams_for(connector: Connector, kind: ConnectorKind) -> list[str]:
    wanted = set(connector.object_types or kind.streams)
    return [stream for stream in kind.streams if stream in wanted]


def execute_run(run_id: int) -> SyncRun | None:
    """Run (or resume) a sync run to its end, a retry, or a failure."""
    run = claim_run(run_id)
    if run is None:
        logger.info("sync run %s is not claimable (finished or taken); nothing to do", run_id)
        return None
    connector = run.connector
    kind = get_kind(connector.kind)(connector)
    try:
        if not run.cursor_before:
            before = dict(SyncCursor.objects.filter(connector=connector).values_list("stream", "value"))
            SyncRun.objects.filter(pk=run.pk).update(cursor_before=before)
        if run.trigger == SyncRun.Trigger.REPLAY:
            _replay_records(run, kind)
        else:
            for stream in streams_for(connector, kind):
                _sync_stream(run, kind, stream)
    except TransientError as exc:
        return _after_transient(run, exc)
    except ConfigurationError as exc:
        return _finish(
            run, SyncRun.Status.FAILED, error_class="configuration", message=exc.message, failing=True
        )
    except Exception as exc:
        logger.exception("sync run %s stopped by an unexpected error", run.pk)
        _dead_letter(run, kind, f"Unexpected error: {type(exc).__name__}: {exc}", request={})
        return _finish(
            run, SyncRun.Status.FAILED, error_class="internal", message=f"{type(exc).__name__}: {exc}"
        )
    finally:
        kind.close()
    return _finish(run, SyncRun.Status.SUCCEEDED)


def _sync_stream(run: SyncRun, kind: ConnectorKind, stream: str) -> None:
    run.refresh_from_db(fields=["cursor_after"])
    progress = run.cursor_after.get(stream)
    if progress is not None and progress.get("_done"):
        return  # finished before a restart
    if progress is not None:
        cursor = {k: v for k, v in progress.items() if k != "_done"}
    elif run.full:
        cursor = None
    else:
        cursor = (
            SyncCursor.objects.filter(connector=run.connector, stream=stream)
            .values_list("value", flat=True)
            .first()
        )
    # Source pages are written together, in one transaction per
    # REVOPS_SYNC_BATCH_RECORDS records or so: each transaction has a fixed cost
    # (lookups, one COPY per table, the commit) that a vendor's small pages
    # would otherwise pay again and again. The cursor still only moves with
    # the committed records, so a worker killed mid-batch resumes after the
    # last commit and fetches the pages since then again.
    batch = settings.REVOPS_SYNC_BATCH_RECORDS
    pending: list[RawRecord] = []
    pages = 0
    started = time.monotonic()
    while True:
        try:
            page = kind.fetch(stream, cursor, full=run.full)
        except Exception:
            # What was fetched before the fault is written first, so the retry
            # resumes after it rather than fetching it again.
            if pages:
                _write_pages(run, kind, stream, pending, pages, cursor, done=False)
            raise
        pending.extend(page.records)
        pages += 1
        # A slow source still commits, and beats the run's heart, every few
        # seconds: a batch must never outlast the task's timeout.
        if page.done or len(pending) >= batch or time.monotonic() - started >= BATCH_SECONDS:
            _write_pages(run, kind, stream, pending, pages, page.cursor, done=page.done)
            pending, pages, started = [], 0, time.monotonic()
        if page.done:
            return
        cursor = page.cursor


def _write_pages(
    run: SyncRun, kind: ConnectorKind, stream: str, raws: list[RawRecord], pages: int, cursor, *, done: bool
) -> None:
    """The records of `pages` source pages and the cursor after them, in one transaction."""
    with transaction.atomic():
        counts = process_records(raws, run=run, kind=kind)
        _commit_page(run, stream, cursor, done, counts, pages=pages)


def _commit_page(
    run: SyncRun, stream: str, cursor: dict | None, done: bool, counts: Counter, *, pages: int = 1
) -> None:
    locked = SyncRun.objects.select_for_update().get(pk=run.pk)
    after = dict(locked.cursor_after)
    after[stream] = {**(cursor or {}), "_done": done}
    if cursor is not None:
        SyncCursor.objects.update_or_create(
            connector=run.connector, stream=stream, defaults={"value": cursor}
        )
    SyncRun.objects.filter(pk=run.pk).update(
        cursor_after=after,
        stream=stream,
        heartbeat_at=timezone.now(),
        pages=F("pages") + pages,
        read=F("read") + sum(counts.values()),
        **{name: F(name) + value for name, value in counts.items()},
    )


def _after_transient(run: SyncRun, exc: TransientError) -> SyncRun:
    run.refresh_from_db()
    limit = settings.REVOPS_SYNC_MAX_ATTEMPTS
    if run.attempts >= limit:
        kind = get_kind(run.connector.kind)(run.connector)
        _dead_letter(run, kind, f"Gave up after {run.attempts} attempts: {exc.message}", request=exc.request)
        return _finish(run, SyncRun.Status.FAILED, error_class="transient", message=exc.message, failing=True)
    delay = backoff_delay(run.attempts, retry_after=exc.retry_after, cap=settings.REVOPS_SYNC_BACKOFF_CAP)
    retry_at = timezone.now() + timezone.timedelta(seconds=delay)
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.RETRYING,
        next_retry_at=retry_at,
        error_class="transient",
        error_message=exc.message,
    )
    Connector.objects.filter(pk=run.connector_id).update(
        health=Connector.Health.DEGRADED, failing_reason=exc.message
    )
    from connectors.tasks import schedule_retry

    transaction.on_commit(lambda: schedule_retry(run.pk, retry_at, attempt=run.attempts))
    logger.warning(
        "sync run %s: transient error, retry %d at %s: %s", run.pk, run.attempts, retry_at, exc.message
    )
    run.refresh_from_db()
    return run


def _finish(
    run: SyncRun, status: str, *, error_class: str = "", message: str = "", failing: bool = False
) -> SyncRun:
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=now, error_class=error_class, error_message=message, heartbeat_at=now
    )
    connector_updates = {"last_run_at": now}
    if status == SyncRun.Status.SUCCEEDED:
        connector_updates.update(last_success_at=now, health=Connector.Health.HEALTHY, failing_reason="")
    elif failing:
        connector_updates.update(health=Connector.Health.FAILING, failing_reason=message[:500])
    Connector.objects.filter(pk=run.connector_id).update(**connector_updates)
    run.refresh_from_db()
    return run


def _dead_letter(run: SyncRun, kind: ConnectorKind, message: str, *, request: dict) -> None:
    connector = run.connector
    exception_open(
        code="DEAD_LETTER",
        dedupe_key=f"DEAD_LETTER|connector:{connector.pk}|run:{run.pk}",
        title=f"{connector.name}: sync run {run.pk} gave up",
        message=message,
        step_key=f"{kind.key}.run",
        actor=system_actor(connector, run, kind),
        source_system=kind.system(),
        connector_id=connector.pk,
        connector_name=connector.name,
        sync_run_id=run.pk,
        legal_entity=connector.legal_entity,
        payload={"request": request, "stream": run.stream, "cursor": run.cursor_after},
        error_details=[{"field": "", "message": message}],
    )


# -- records ---------------------------------------------------------------------------------------


@dataclass
class RecordOutcome:
    outcome: str
    inbound: InboundRecord


def process_records(
    raws: list[RawRecord],
    *,
    run: SyncRun | None,
    kind: ConnectorKind,
    force: bool = False,
    actor: Actor | None = None,
) -> Counter:
    """Store, map and write each record; returns counts by run counter name.
    `force` re-applies records already applied (replay)."""
    counts: Counter = Counter()
    connector = kind.connector
    actor = actor or system_actor(connector, run, kind)
    reason = f"Sync {connector.name}" + (f" run {run.pk}" if run else " webhook")
    ctx = write_context(connector, kind, actor, reason)
    if not force and len(raws) > 1:
        # New records of the kinds the bulk path knows are written set-based;
        # everything else (updates, errors, other types) goes one by one below.
        from connectors import bulk

        bulk_counts, raws = bulk.process_batch(raws, run=run, kind=kind, ctx=ctx)
        counts.update(bulk_counts)
        if run is not None and not raws:
            bulk.commit_without_waiting()
    for raw in raws:
        result = process_one(raw, run=run, kind=kind, ctx=ctx, force=force)
        counts[_COUNTED[result.outcome]] += 1
    return counts


def store_raw(raw: RawRecord, *, connector: Connector, run: SyncRun | None) -> tuple[InboundRecord, bool]:
    digest = content_hash(raw.payload)
    return InboundRecord.objects.get_or_create(
        connector=connector,
        object_type=raw.object_type,
        external_id=raw.external_id,
        content_hash=digest,
        defaults={
            "payload": raw.payload,
            "version": raw.version[:64],
            "source_type": raw.source_type[:40],
            "run": run,
            "last_run": run,
        },
    )


def process_one(
    raw: RawRecord,
    *,
    run: SyncRun | None,
    kind: ConnectorKind,
    ctx: writers.WriteContext,
    force: bool = False,
) -> RecordOutcome:
    connector = kind.connector
    inbound, created = store_raw(raw, connector=connector, run=run)
    settled = inbound.outcome not in (Outcome.PENDING, Outcome.BUSINESS_ERROR)
    if not created and settled and not force:
        # The same content again: nothing to do, and nothing to count twice.
        _mark(inbound, run, Outcome.UNCHANGED if inbound.outcome != Outcome.STALE else Outcome.STALE)
        return RecordOutcome(Outcome.UNCHANGED, inbound)
    source = SourceObject.objects.filter(
        connector=connector, object_type=raw.object_type, external_id=raw.external_id
    ).first()
    if (
        source
        and raw.version
        and source.applied_version
        and raw.version < source.applied_version
        and not force
    ):
        _mark(inbound, run, Outcome.STALE, f"older than version {source.applied_version} already applied")
        return RecordOutcome(Outcome.STALE, inbound)
    record = None
    try:
        with transaction.atomic():
            record = _map(kind, raw)
            if record is None:
                result = writers.WriteResult(writers.UNCHANGED, None, "not a record revops imports")
            else:
                result = writers.write(record, ctx)
            _remember_version(connector, raw, inbound.content_hash)
    except BusinessError as exc:
        item = _open_exception(
            exc, raw=raw, inbound=inbound, run=run, kind=kind, actor=ctx.actor, record=record
        )
        _mark(inbound, run, Outcome.BUSINESS_ERROR, exc.message, exception_item_id=item.pk)
        return RecordOutcome(Outcome.BUSINESS_ERROR, inbound)
    _mark(inbound, run, result.outcome, result.message, obj=result.obj)
    _resolve_earlier_problems(connector, raw, kind, ctx.actor, run)
    return RecordOutcome(result.outcome, inbound)


def _map(kind: ConnectorKind, raw: RawRecord):
    try:
        return kind.map(raw)
    except MappingError as exc:
        raise BusinessError(
            str(exc),
            code="VALIDATION_FAILED",
            field=exc.field,
            path=payload_path(exc.field),
            expected=exc.expected,
            actual=exc.actual,
        ) from None


def payload_path(field: str) -> str:
    """A mapping error's field ("lines.data[0].amount") as the dotted path a
    correction uses ("lines.data.0.amount")."""
    return re.sub(r"\[(\d+)\]", r".\1", field or "")


def _remember_version(connector: Connector, raw: RawRecord, digest: str) -> None:
    SourceObject.objects.update_or_create(
        connector=connector,
        object_type=raw.object_type,
        external_id=raw.external_id,
        defaults={"applied_version": raw.version[:64], "applied_hash": digest},
    )


def _mark(
    inbound: InboundRecord, run, outcome: str, message: str = "", *, obj=None, exception_item_id=None
) -> None:
    inbound.outcome = outcome
    inbound.message = message[:2000]
    inbound.last_run = run or inbound.last_run
    fields = ["outcome", "message", "last_run"]
    if obj is not None and getattr(obj, "pk", None):
        inbound.content_type = ContentType.objects.get_for_model(obj)
        inbound.object_id = obj.pk
        fields += ["content_type", "object_id"]
    if exception_item_id is not None:
        inbound.exception_item_id = exception_item_id
        fields.append("exception_item_id")
    inbound.save(update_fields=fields)


def step_key(kind: ConnectorKind, object_type: str) -> str:
    return f"{kind.key}.{object_type}"


def item_title(object_type: str, external_id: str, message: str) -> str:
    """What the queue lists: the record, then the problem, without saying the
    record twice when the message already names it."""
    what = object_type.replace("_", " ").capitalize()
    if external_id and external_id in message.split(":", 1)[0]:
        return message
    return f"{what} {external_id}: {message}"


def document_amount(record) -> tuple[Decimal | None, str]:
    """The amount an item is about, for routing by amount range and for the
    queue: a document's total, a payment's amount (None when the record has none)."""
    currency = getattr(record, "currency", "") or ""
    for name in ("total", "amount"):
        value = getattr(record, name, None)
        if isinstance(value, Decimal) and currency:
            return value, currency
    return None, ""


def _open_exception(exc: BusinessError, *, raw, inbound, run, kind, actor, record=None) -> ExceptionItem:
    connector = kind.connector
    amount, currency = document_amount(record)
    item, _ = exception_open(
        code=exc.code,
        dedupe_key=f"{exc.code}|{connector.pk}|{raw.object_type}|{raw.external_id}",
        title=item_title(raw.object_type, raw.external_id, exc.message),
        amount=amount,
        currency=currency,
        message=exc.message,
        step_key=step_key(kind, raw.object_type),
        actor=actor,
        source_system=kind.system(),
        connector_id=connector.pk,
        connector_name=connector.name,
        sync_run_id=run.pk if run else None,
        inbound_record_id=inbound.pk,
        legal_entity=connector.legal_entity,
        payload=raw.payload,
        external_id=raw.external_id,
        subject=exc.subject,
        error_details=[
            {**row, "path": row.get("path") or kind.payload_path(raw.object_type, row.get("field") or "")}
            for row in exc.error_rows()
        ],
        suggested_correction=exc.suggested_correction,
    )
    return item


def _resolve_earlier_problems(connector, raw: RawRecord, kind: ConnectorKind, actor: Actor, run) -> None:
    """A record that now goes through closes the items its earlier versions opened."""
    item_ids = (
        InboundRecord.objects.filter(
            connector=connector,
            object_type=raw.object_type,
            external_id=raw.external_id,
            exception_item_id__isnull=False,
        )
        .values_list("exception_item_id", flat=True)
        .distinct()
    )
    open_items = ExceptionItem.objects.filter(
        pk__in=list(item_ids), status__in=["new", "in_review", "resubmitted"]
    )
    where = f"run {run.pk}" if run else "a webhook"
    for item in open_items:
        exception_resolve(
            item=item, actor=actor, note=f"{connector.name} {where} applied this record without error."
        )


# -- replay ---------------------------------------------------------------------------------------


def _replay_records(run: SyncRun, kind: ConnectorKind) -> None:
    """Re-apply the records of the replayed run, in the order they were read."""
    source = InboundRecord.objects.filter(Q(run=run.replay_of) | Q(last_run=run.replay_of)).order_by("id")
    done = run.cursor_after.get("replay", {}).get("last_id", 0)
    batch = list(source.filter(pk__gt=done)[:200])
    while batch:
        raws = [to_raw(inbound) for inbound in batch]
        with transaction.atomic():
            counts = process_records(raws, run=run, kind=kind, force=True)
            _commit_page(run, "replay", {"last_id": batch[-1].pk}, False, counts)
        batch = list(source.filter(pk__gt=batch[-1].pk)[:200])


def to_raw(inbound: InboundRecord) -> RawRecord:
    return RawRecord(
        object_type=inbound.object_type,
        external_id=inbound.external_id,
        payload=inbound.payload,
        source_type=inbound.source_type,
        version=inbound.version,
    )


def replay_record(*, inbound: InboundRecord, actor: Actor | None = None) -> RecordOutcome:
    """Re-apply one stored record now (idempotent: an applied record stays as it is)."""
    kind = get_kind(inbound.connector.kind)(inbound.connector)
    try:
        actor = actor or system_actor(inbound.connector, None, kind, " replay")
        ctx = write_context(
            inbound.connector, kind, actor, f"Replay of {inbound.connector.name} record {inbound.pk}"
        )
        with transaction.atomic():
            return process_one(to_raw(inbound), run=None, kind=kind, ctx=ctx, force=True)
    finally:
        kind.close()
