"""Writes for exception items: open (deduplicated), assign, comment, resubmit,
resolve, dismiss.

Every function is keyword-only, atomic, takes the actor, and stamps who and why
on the history row it writes. Functions that change an item lock its row and
return the updated item (the instance passed in may be stale afterwards).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from exceptions_queue.codes import DEDUPE_KEY_MAX, Severity, code_info, make_dedupe_key
from exceptions_queue.models import (
    OPEN_STATUSES,
    ExceptionComment,
    ExceptionItem,
    Status,
)
from exceptions_queue.notifications import NOTIFY_AT_PRIORITY, notify_new_item
from exceptions_queue.registry import (
    RESUBMIT_PENDING,
    STEP_KEY_RE,
    NoResubmitHandler,
    ResubmitFailed,
    get_resubmit_handler,
)
from exceptions_queue.routing import apply_routing
from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import Customer, LegalEntity
from revops.models.base import stamp

__all__ = [
    "exception_assign",
    "exception_comment",
    "exception_dismiss",
    "exception_open",
    "exception_resolve",
    "exception_resolve_if_open",
    "exception_resubmit",
    "make_dedupe_key",
]

OPEN_CONSTRAINT = "exception_one_open_per_dedupe_key"
RESUBMITTABLE = (Status.NEW, Status.IN_REVIEW)
RESUBMIT_SUCCESS_NOTE = "Resubmitted successfully"
TITLE_MAX = 200
REASON_EXCERPT = 300


def exception_open(
    *,
    code: str,
    dedupe_key: str,
    title: str,
    message: str,
    step_key: str,
    actor: Actor,
    source_system: str = "",
    connector_id: int | None = None,
    connector_name: str = "",
    sync_run_id: int | None = None,
    inbound_record_id: int | None = None,
    subject: models.Model | None = None,
    correlation_id: uuid.UUID | str | None = None,
    legal_entity: LegalEntity | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    payload: Any = None,
    error_details: Iterable[Mapping[str, Any]] = (),
    suggested_correction: Any = None,
    severity: str | None = None,
    external_id: str = "",
    customer: Customer | None = None,
) -> tuple[ExceptionItem, bool]:
    """Open an exception item, or count a repeat of the open one with this dedupe key.

    Returns (item, created). A repeat bumps `occurrences` and `last_seen_at` and
    refreshes the message, payload, error details and run ids; a repeat of an item
    waiting on a resubmission means the resubmission failed again, so the item
    goes back to `new` with the new error. Safe under concurrency: the database
    allows one open item per dedupe key, and a lost race becomes a repeat.
    """
    try:
        info = code_info(code)
    except ValueError as exc:
        raise field_error("code", str(exc)) from None
    dedupe_key = _required(dedupe_key, "dedupe_key", "An exception needs a dedupe key.")
    if len(dedupe_key) > DEDUPE_KEY_MAX:
        raise field_error("dedupe_key", f"A dedupe key has at most {DEDUPE_KEY_MAX} characters.")
    title = shorten(_required(title, "title", "An exception needs a title."), TITLE_MAX)
    step_key = (step_key or "").strip()
    if not STEP_KEY_RE.match(step_key):
        raise field_error("step_key", f"{step_key!r} is not a step key (e.g. 'stripe.invoice').")
    severity = severity or info.severity
    if severity not in Severity.values:
        raise field_error("severity", f"{severity!r} is not a severity ({', '.join(Severity.values)}).")
    currency = (currency or "").strip().upper()
    if amount is not None and not currency:
        raise field_error("currency", "An amount needs its currency.")
    # Routing and filters need the entity and the correlation id: take them from
    # the object concerned when the caller does not give them.
    if legal_entity is None and subject is not None:
        legal_entity = getattr(subject, "legal_entity", None)
        if not isinstance(legal_entity, LegalEntity):
            legal_entity = None
    if customer is None and subject is not None:
        customer = subject if isinstance(subject, Customer) else getattr(subject, "customer", None)
        if not isinstance(customer, Customer):
            customer = None
    if correlation_id in (None, "") and subject is not None:
        correlation_id = getattr(subject, "correlation_id", None)
        if not isinstance(correlation_id, uuid.UUID):
            correlation_id = None

    seen = {
        "title": title,
        "message": (message or "").strip(),
        "payload": None if payload is None else _jsonable(payload),
        "error_details": normalise_error_details(error_details),
        "suggested_correction": None if suggested_correction is None else _jsonable(suggested_correction),
        "sync_run_id": sync_run_id,
        "inbound_record_id": inbound_record_id,
        "correlation_id": _uuid(correlation_id),
        "amount": amount,
        "currency": currency,
    }
    with transaction.atomic():
        now = timezone.now()
        existing = _find_open(dedupe_key)
        if existing is not None:
            return _seen_again(existing, seen, now=now, actor=actor), False
        item = ExceptionItem(
            code=info.code,
            severity=severity,
            dedupe_key=dedupe_key,
            step_key=step_key,
            source_system=(source_system or "").strip(),
            connector_id=connector_id,
            connector_name=(connector_name or "").strip(),
            legal_entity=legal_entity,
            external_id=(external_id or "").strip()[:255],
            customer=customer,
            first_seen_at=now,
            last_seen_at=now,
            **{**seen, "payload": seen["payload"] if seen["payload"] is not None else {}},
        )
        if subject is not None:
            if subject.pk is None:
                raise field_error("subject", "An exception can only concern a saved object.")
            item.content_type = ContentType.objects.get_for_model(subject)
            item.object_id = subject.pk
            item.object_label = shorten(str(subject), 200)
        rule = apply_routing(item, opened_at=now)
        routed = f" (routed to {item.team} by rule {rule.name})" if rule is not None else ""
        stamp(item, actor, f"Opened: {shorten(title, REASON_EXCERPT)}{routed}")
        try:
            with transaction.atomic():
                item.save()
        except IntegrityError as exc:
            if not _is_open_key_clash(exc):
                raise
            # Another transaction opened this item between our look-up and insert.
            existing = _find_open(dedupe_key)
            if existing is None:
                raise
            return _seen_again(existing, seen, now=now, actor=actor), False
        if item.priority <= NOTIFY_AT_PRIORITY and item.team_id is not None:
            transaction.on_commit(lambda: notify_new_item(item.pk))
        return item, True


def _is_open_key_clash(exc: IntegrityError) -> bool:
    # PostgreSQL names the constraint; SQLite names the table and column.
    text = str(exc)
    return OPEN_CONSTRAINT in text or f"{ExceptionItem._meta.db_table}.dedupe_key" in text


def _find_open(dedupe_key: str) -> ExceptionItem | None:
    return (
        ExceptionItem.objects.select_for_update()
        .filter(dedupe_key=dedupe_key, status__in=OPEN_STATUSES)
        .order_by()
        .first()
    )


def _seen_again(item: ExceptionItem, seen: dict[str, Any], *, now, actor: Actor) -> ExceptionItem:
    reopened = item.status == Status.RESUBMITTED
    item.occurrences += 1
    item.last_seen_at = max(now, item.last_seen_at)
    item.title = seen["title"]
    item.message = seen["message"]
    item.error_details = seen["error_details"]
    for name in ("payload", "suggested_correction", "sync_run_id", "inbound_record_id"):
        if seen[name] is not None:
            setattr(item, name, seen[name])
    if seen["correlation_id"] and not item.correlation_id:
        item.correlation_id = seen["correlation_id"]
    if seen["amount"] is not None:
        item.amount, item.currency = seen["amount"], seen["currency"]
    if reopened:
        item.status = Status.NEW
        reason = f"Failed again after resubmission: {shorten(item.message or item.title, REASON_EXCERPT)}"
    else:
        reason = f"Seen again ({item.occurrences} times)"
    stamp(item, actor, reason)
    item.save()
    return item


@transaction.atomic
def exception_resolve(*, item: ExceptionItem, actor: Actor, note: str) -> ExceptionItem:
    note = _required(note, "note", "Say how the problem was resolved.")
    item = _lock_open(item, "resolved")
    return _close(item, status=Status.RESOLVED, actor=actor, note=note)


@transaction.atomic
def exception_resolve_if_open(*, dedupe_key: str, actor: Actor, note: str) -> ExceptionItem | None:
    """A later run found the problem gone: resolve the open item for this key, if any."""
    note = _required(note, "note", "Say why the problem is gone.")
    item = _find_open(dedupe_key)
    if item is None:
        return None
    return _close(item, status=Status.RESOLVED, actor=actor, note=note)


@transaction.atomic
def exception_dismiss(*, item: ExceptionItem, actor: Actor, reason: str) -> ExceptionItem:
    reason = _required(reason, "reason", "Dismissing an exception needs a reason.")
    item = _lock_open(item, "dismissed")
    stamp(item, actor, apply_dismissal(item, reason, now=timezone.now()))
    item.save()
    return item


def apply_dismissal(item: ExceptionItem, reason: str, *, now) -> str:
    """Set a locked open item's fields for dismissal; returns the history reason.
    Shared by the single action and the set-based bulk path."""
    item.status = Status.DISMISSED
    item.dismissed_reason = reason
    item.resolved_at = now
    return f"Dismissed: {reason}"


def apply_assignment(item: ExceptionItem, assignee) -> str | None:
    """Set a locked open item's assignee (a new item someone takes is in review);
    returns the default history reason, or None when nothing changes."""
    if item.assignee_id == (assignee.pk if assignee is not None else None):
        return None
    item.assignee = assignee
    if assignee is not None and item.status == Status.NEW:
        item.status = Status.IN_REVIEW
    return f"Assigned to {assignee.get_username()}" if assignee is not None else "Unassigned"


@transaction.atomic
def exception_assign(*, item: ExceptionItem, assignee, actor: Actor, reason: str = "") -> ExceptionItem:
    """Assign to a person (None unassigns). A new item someone is assigned to is in review."""
    item = _lock_open(item, "assigned")
    if assignee is not None and not assignee.is_active:
        raise field_error("assignee", f"{assignee.get_username()} is not an active user.")
    default = apply_assignment(item, assignee)
    if default is None:
        return item
    stamp(item, actor, (reason or "").strip() or default)
    item.save()
    return item


@transaction.atomic
def exception_comment(*, item: ExceptionItem, body: str, actor: Actor) -> ExceptionComment:
    body = _required(body, "body", "A comment cannot be empty.")
    comment = ExceptionComment(item=item, author=actor.user, actor=actor.label, body=body)
    stamp(comment, actor, "Comment added")
    comment.save()
    return comment


@transaction.atomic
def exception_resubmit(
    *, item: ExceptionItem, actor: Actor, correction: dict[str, Any] | None = None, reason: str
) -> ExceptionItem:
    """Re-run the failed step through its owner's handler, with the analyst's
    corrected data (None retries the data as received).

    The correction is saved on the item first, so history shows it as a field
    diff with who and why. Then the handler runs in a savepoint: success resolves
    the item; a business error (`ResubmitFailed` or a `ValidationError`) undoes
    the handler's writes and reopens the item with the new error.
    """
    reason = _required(reason, "reason", "Resubmitting needs a reason.")
    if correction is not None and not isinstance(correction, Mapping):
        raise field_error("correction", "A correction is a mapping of field names to values.")
    item = _lock_open(item, "resubmitted")
    if item.status not in RESUBMITTABLE:
        raise field_error("status", "This item was already resubmitted and is waiting for the result.")
    try:
        handler = get_resubmit_handler(item.step_key)
    except NoResubmitHandler as exc:
        raise field_error("step_key", str(exc)) from None

    if correction is not None:
        correction = _jsonable(dict(correction))
        changed = sorted(
            name
            for name in set(correction) | set(item.correction or {})
            if correction.get(name) != (item.correction or {}).get(name)
        )
        item.correction = correction
        what = f"Resubmitted with corrected {', '.join(changed)}" if changed else "Resubmitted"
    else:
        what = "Resubmitted as received"
    item.status = Status.RESUBMITTED
    stamp(item, actor, f"{what}: {reason}")
    item.save()

    try:
        with transaction.atomic():
            outcome = handler(item, correction, actor)
    except ResubmitFailed as exc:
        return _reopen_after_failure(item, actor=actor, message=exc.message, details=exc.error_details)
    except ValidationError as exc:
        return _reopen_after_failure(
            item, actor=actor, message="; ".join(exc.messages), details=_validation_details(exc)
        )

    # The handler may have re-run the pipeline, which reopens (exception_open) or
    # resolves (exception_resolve_if_open) this very row: read it again.
    item = ExceptionItem.objects.select_for_update().get(pk=item.pk)
    if outcome is RESUBMIT_PENDING or item.status != Status.RESUBMITTED:
        return item
    return _close(item, status=Status.RESOLVED, actor=actor, note=RESUBMIT_SUCCESS_NOTE)


@transaction.atomic
def exception_resubmission_failed(
    *, item: ExceptionItem, actor: Actor, message: str, details: Iterable[Any] = ()
) -> ExceptionItem:
    """A resubmission its handler left pending (`RESUBMIT_PENDING`) failed later, in
    the owning step's own time: the item goes back to `new` saying why. An item no
    longer waiting on its resubmission is left as it is."""
    locked = ExceptionItem.objects.select_for_update().get(pk=item.pk)
    if locked.status != Status.RESUBMITTED:
        return locked
    return _reopen_after_failure(locked, actor=actor, message=message, details=details)


def _reopen_after_failure(
    item: ExceptionItem, *, actor: Actor, message: str, details: Iterable[Any]
) -> ExceptionItem:
    item = ExceptionItem.objects.select_for_update().get(pk=item.pk)
    message = (message or "").strip() or "The resubmitted step failed."
    item.status = Status.NEW
    item.message = message
    item.error_details = keep_known_paths(normalise_error_details(details), item.error_details)
    item.occurrences += 1
    item.last_seen_at = max(timezone.now(), item.last_seen_at)
    stamp(item, actor, f"Resubmission failed: {shorten(message, REASON_EXCERPT)}")
    item.save()
    return item


def _close(item: ExceptionItem, *, status: str, actor: Actor, note: str) -> ExceptionItem:
    item.status = status
    item.resolution_note = note
    item.resolved_at = timezone.now()
    stamp(item, actor, f"Resolved: {note}" if note != RESUBMIT_SUCCESS_NOTE else note)
    item.save()
    return item


def _lock_open(item: ExceptionItem, verb: str) -> ExceptionItem:
    item = ExceptionItem.objects.select_for_update().get(pk=item.pk)
    if item.status not in OPEN_STATUSES:
        raise field_error("status", f"This item is {item.get_status_display().lower()}; it cannot be {verb}.")
    return item


# -- normalising input ---------------------------------------------------------


def normalise_error_details(details: Iterable[Any] | None) -> list[dict[str, Any]]:
    """[{field, path, label, message, expected, actual}], JSON-safe: `field` names
    the canonical field, `path` the value in the payload a correction edits,
    `label` what the row is about for a person (e.g. a tax jurisdiction). A plain
    string is a message without a field."""
    rows = []
    for entry in details or ():
        if isinstance(entry, Mapping):
            row = {
                "field": str(entry.get("field") or ""),
                "path": str(entry.get("path") or ""),
                "label": str(entry.get("label") or ""),
                "message": str(entry.get("message") or ""),
                "expected": entry.get("expected"),
                "actual": entry.get("actual"),
            }
        else:
            row = {
                "field": "",
                "path": "",
                "label": "",
                "message": str(entry),
                "expected": None,
                "actual": None,
            }
        rows.append(_jsonable(row))
    return rows


def _validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": "" if name == "__all__" else name, "message": message}
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in exc.messages]


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except TypeError as exc:
        raise DomainValidationError({"payload": [f"Data that cannot be stored as JSON: {exc}"]}) from None


def _uuid(value: uuid.UUID | str | None) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise field_error("correlation_id", f"{value!r} is not a UUID.") from None


def _required(value: str | None, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise field_error(field, message)
    return value


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- checking a correction and taking an item (the detail page) ---------------------


class _DryRunDone(Exception):
    """Raised to roll back a dry run's savepoint after the handler has run."""


def exception_check_correction(
    *, item: ExceptionItem, correction: dict[str, Any] | None, actor: Actor
) -> list[dict[str, Any]]:
    """The errors a resubmission with `correction` would meet, without changing
    anything: the step's handler runs exactly as `exception_resubmit` runs it, in
    a savepoint that is always rolled back (callbacks it queued on commit are
    dropped with it). An empty list means the correction would go through."""
    if correction is not None and not isinstance(correction, Mapping):
        raise field_error("correction", "A correction is a mapping of field names to values.")
    item = ExceptionItem.objects.get(pk=item.pk)
    if item.status not in RESUBMITTABLE:
        raise field_error(
            "status", f"This item is {item.get_status_display().lower()}; there is nothing to check."
        )
    try:
        handler = get_resubmit_handler(item.step_key)
    except NoResubmitHandler as exc:
        raise field_error("step_key", str(exc)) from None
    if correction is not None:
        correction = _jsonable(dict(correction))
    known = item.error_details
    errors: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            # Leave the item as a resubmission would (inside the savepoint), so
            # that a handler re-running the pipeline sees the same state.
            item = ExceptionItem.objects.select_for_update().get(pk=item.pk)
            if correction is not None:
                item.correction = correction
            item.status = Status.RESUBMITTED
            stamp(item, actor, "Checking a correction (not kept)")
            item.save()
            try:
                handler(item, correction, actor)
            except ResubmitFailed as exc:
                errors = normalise_error_details(exc.error_details or [exc.message])
            except ValidationError as exc:
                errors = normalise_error_details(_validation_details(exc))
            else:
                # The pipeline the handler re-ran may have reopened this very item.
                after = ExceptionItem.objects.get(pk=item.pk)
                if after.status == Status.NEW:
                    errors = normalise_error_details(after.error_details or [after.message or after.title])
            raise _DryRunDone
    except _DryRunDone:
        pass
    return keep_known_paths(errors, known)


def exception_take(*, item: ExceptionItem, actor: Actor) -> ExceptionItem:
    """Assign the item to the person acting ("Assign to me")."""
    if actor.user is None:
        raise field_error("assignee", "Only a person can take an exception item.")
    return exception_assign(
        item=item, assignee=actor.user, actor=actor, reason=f"Taken by {actor.user.get_username()}"
    )


def keep_known_paths(rows: list[dict[str, Any]], previous: Iterable[Any] | None) -> list[dict[str, Any]]:
    """A handler's new error rows, each given the payload path the item's earlier
    row for the same field had when the handler names only the field, so the
    correction form keeps offering that value."""
    paths = {
        str(row.get("field")): str(row.get("path"))
        for row in previous or ()
        if isinstance(row, Mapping) and row.get("field") and row.get("path")
    }
    return [{**row, "path": row.get("path") or paths.get(row.get("field") or "", "")} for row in rows]
