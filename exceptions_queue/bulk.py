"""Bulk actions on exception items: assign, resubmit or dismiss a selection or
everything matching the queue's filter.

Starting one fixes the set of items (their ids) at the moment the person
confirms the count they were shown, so items opened afterwards are never
touched by surprise. Each item then goes through the same service as a single
action (same checks, same history with who and why), in its own transaction:
an item someone else closed meanwhile is skipped, not failed, and progress
survives a worker restart.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from exceptions_queue import services
from exceptions_queue.models import OPEN_STATUSES, BulkAction, ExceptionItem, Status
from revops.actors import Actor
from revops.errors import field_error

logger = logging.getLogger(__name__)

RUN_TASK = "exceptions_queue.tasks.run_bulk_action"
MAX_ITEMS = 100_000  # one confirmation; larger sets are narrowed by filter first
CHUNK = 500  # items between progress updates
STALE_AFTER = dt.timedelta(minutes=5)  # a running action silent this long has lost its worker
MAX_ERRORS_KEPT = 50

# Which items each action can apply to: the rest of a selection is left alone.
ELIGIBLE_STATUSES = {
    BulkAction.Action.ASSIGN: OPEN_STATUSES,
    BulkAction.Action.DISMISS: OPEN_STATUSES,
    BulkAction.Action.RESUBMIT: services.RESUBMITTABLE,
}


CHANGED_FIELDS = {
    BulkAction.Action.DISMISS: ["status", "dismissed_reason", "resolved_at", "updated_at"],
    BulkAction.Action.ASSIGN: ["assignee", "status", "updated_at"],
}


def eligible(action: str, items) -> Any:
    """The part of a queryset of items that `action` can change."""
    return items.filter(status__in=ELIGIBLE_STATUSES[action])


def bulk_validate(*, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The action's parameters, checked: {"assignee_id": int|None} for assign,
    {"reason": str} for all (required to dismiss and resubmit)."""
    if action not in BulkAction.Action.values:
        raise field_error(
            "action", f"{action!r} is not a bulk action ({', '.join(BulkAction.Action.values)})."
        )
    reason = " ".join(str(params.get("reason") or "").split())
    clean: dict[str, Any] = {"reason": reason}
    if action in (BulkAction.Action.DISMISS, BulkAction.Action.RESUBMIT) and not reason:
        verb = "Dismissing" if action == BulkAction.Action.DISMISS else "Resubmitting"
        raise field_error("reason", f"{verb} needs a reason; it is recorded on every item.")
    if action == BulkAction.Action.ASSIGN:
        raw = params.get("assignee_id")
        if raw in (None, ""):
            clean["assignee_id"] = None
        else:
            try:
                assignee = get_user_model().objects.get(pk=int(raw), is_active=True)
            except (ValueError, TypeError, get_user_model().DoesNotExist):
                raise field_error("assignee_id", "Choose an active user to assign to.") from None
            clean["assignee_id"] = assignee.pk
    return clean


@transaction.atomic
def bulk_action_start(
    *,
    action: str,
    items,
    params: Mapping[str, Any],
    actor: Actor,
    filter_description: str = "",
    expected_count: int | None = None,
) -> BulkAction:
    """Fix the eligible items of `items` (a queryset) and start changing them.

    `expected_count` is the number the person confirmed: if the selection has
    changed size since, nothing starts and they are asked to look again. Small
    actions run at once; larger ones in the background worker.
    """
    if actor.user is None:
        raise field_error("actor", "Bulk actions are started by a person.")
    clean = bulk_validate(action=action, params=params)
    ids = list(eligible(action, items).order_by("id").values_list("id", flat=True)[: MAX_ITEMS + 1])
    if not ids:
        raise field_error("items", "No item in this selection can be changed this way.")
    if len(ids) > MAX_ITEMS:
        raise field_error("items", f"More than {MAX_ITEMS:,} items: narrow the filter and run it in parts.")
    if expected_count is not None and expected_count != len(ids):
        raise field_error(
            "items",
            f"The selection changed while you were deciding: {len(ids):,} items now match, not "
            f"{expected_count:,}. Check the count and confirm again.",
        )
    bulk = BulkAction.objects.create(
        action=action,
        item_ids=ids,
        total=len(ids),
        params=clean,
        filter_description=filter_description[:2000],
        created_by=actor.user,
    )
    if len(ids) <= settings.REVOPS_BULK_INLINE_MAX:
        transaction.on_commit(lambda: run_bulk_action(bulk.pk))
    else:
        transaction.on_commit(lambda: _enqueue(bulk))
    return bulk


def _enqueue(bulk: BulkAction) -> None:
    from django_q.tasks import async_task

    async_task(
        RUN_TASK, bulk.pk, task_name=f"bulk {bulk.action} of {bulk.total} exception items (#{bulk.pk})"
    )


def _claim(bulk_id: int) -> BulkAction | None:
    """Take the action to run it: a queued one, or a running one whose worker
    stopped reporting. Anything else (done, or alive elsewhere) is left alone."""
    now = timezone.now()
    claimable = Q(state=BulkAction.State.QUEUED) | Q(
        state=BulkAction.State.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    claimed = BulkAction.objects.filter(claimable, pk=bulk_id).update(
        state=BulkAction.State.RUNNING, heartbeat_at=now
    )
    if not claimed:
        return None
    BulkAction.objects.filter(pk=bulk_id, started_at__isnull=True).update(started_at=now)
    return BulkAction.objects.select_related("created_by").get(pk=bulk_id)


def run_bulk_action(bulk_id: int) -> BulkAction | None:
    """Carry out a bulk action from where it stands (idempotent; resumable)."""
    bulk = _claim(bulk_id)
    if bulk is None:
        return None
    actor = Actor.for_user(bulk.created_by)
    reason = bulk.params.get("reason") or ""
    assignee = None
    if bulk.action == BulkAction.Action.ASSIGN and bulk.params.get("assignee_id"):
        assignee = get_user_model().objects.filter(pk=bulk.params["assignee_id"]).first()
    try:
        pending = bulk.item_ids[bulk.processed :]
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            if bulk.action == BulkAction.Action.RESUBMIT:
                # Each resubmission re-runs its own step: one item at a time.
                outcomes = [
                    _apply(bulk, item_id, actor=actor, reason=reason, assignee=assignee) for item_id in chunk
                ]
            else:
                outcomes = _apply_chunk(bulk, chunk, actor=actor, reason=reason, assignee=assignee)
            _record(bulk, outcomes)
    except Exception:
        logger.exception("bulk action %s stopped", bulk_id)
        BulkAction.objects.filter(pk=bulk_id).update(
            state=BulkAction.State.FAILED, finished_at=timezone.now()
        )
        raise
    BulkAction.objects.filter(pk=bulk_id, state=BulkAction.State.RUNNING).update(
        state=BulkAction.State.DONE, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )
    bulk.refresh_from_db()
    return bulk


def _apply(bulk: BulkAction, item_id: int, *, actor: Actor, reason: str, assignee) -> tuple[str, int, str]:
    """("succeeded" | "skipped" | "failed", item id, message)."""
    item = ExceptionItem.objects.filter(pk=item_id).first()
    if item is None:
        return "skipped", item_id, "The item no longer exists."
    if item.status not in ELIGIBLE_STATUSES[bulk.action]:
        return "skipped", item_id, f"Already {item.get_status_display().lower()}."
    note = f"{reason} (bulk action #{bulk.pk})" if reason else f"Bulk action #{bulk.pk}"
    try:
        if bulk.action == BulkAction.Action.DISMISS:
            services.exception_dismiss(item=item, actor=actor, reason=note)
        elif bulk.action == BulkAction.Action.ASSIGN:
            services.exception_assign(item=item, assignee=assignee, actor=actor, reason=note)
        else:
            after = services.exception_resubmit(item=item, actor=actor, correction=None, reason=note)
            if after.status == Status.NEW:
                return "failed", item_id, f"Resubmitted, failed again: {after.message}"[:500]
    except ValidationError as exc:
        return "skipped", item_id, "; ".join(exc.messages)[:500]
    except Exception as exc:  # one broken item must not stop the other thousands
        logger.exception("bulk action %s: item %s failed", bulk.pk, item_id)
        return "failed", item_id, f"{type(exc).__name__}: {exc}"[:500]
    return "succeeded", item_id, ""


def _apply_chunk(
    bulk: BulkAction, chunk: list[int], *, actor: Actor, reason: str, assignee
) -> list[tuple[str, int, str]]:
    """Dismiss or assign a chunk set-based: lock the rows, set the same fields the
    single action sets (services.apply_dismissal / apply_assignment), and write
    the rows and their history rows in a few statements."""
    note = f"{reason} (bulk action #{bulk.pk})" if reason else f"Bulk action #{bulk.pk}"
    if assignee is not None and not assignee.is_active:
        message = f"{assignee.get_username()} is no longer an active user."
        return [("skipped", item_id, message) for item_id in chunk]
    now = timezone.now()
    outcomes: list[tuple[str, int, str]] = []
    with transaction.atomic():
        found = ExceptionItem.objects.select_for_update().in_bulk(chunk)
        changed = []
        for item_id in chunk:
            item = found.get(item_id)
            if item is None:
                outcomes.append(("skipped", item_id, "The item no longer exists."))
                continue
            if item.status not in ELIGIBLE_STATUSES[bulk.action]:
                outcomes.append(("skipped", item_id, f"Already {item.get_status_display().lower()}."))
                continue
            if bulk.action == BulkAction.Action.DISMISS:
                why = services.apply_dismissal(item, note, now=now)
            else:
                default = services.apply_assignment(item, assignee)
                why = None if default is None else (note if reason else f"{default} (bulk action #{bulk.pk})")
            outcomes.append(("succeeded", item_id, ""))
            if why is not None:
                item.updated_at = now
                item._history_user = actor.user
                item._change_reason = why
                changed.append(item)
        if changed:
            bulk_update_with_history(
                changed,
                ExceptionItem,
                fields=CHANGED_FIELDS[bulk.action],
                default_date=now,
                custom_historical_attrs={"history_source": actor.system, "history_actor": actor.label},
            )
    return outcomes


def _record(bulk: BulkAction, outcomes: Iterable[tuple[str, int, str]]) -> None:
    outcomes = list(outcomes)
    counts = {
        name: sum(1 for outcome, _, _ in outcomes if outcome == name)
        for name in ("succeeded", "skipped", "failed")
    }
    errors = [
        {"item_id": item_id, "outcome": outcome, "message": message}
        for outcome, item_id, message in outcomes
        if message
    ]
    with transaction.atomic():
        locked = BulkAction.objects.select_for_update().get(pk=bulk.pk)
        room = max(0, MAX_ERRORS_KEPT - len(locked.errors))
        BulkAction.objects.filter(pk=bulk.pk).update(
            processed=F("processed") + len(outcomes),
            succeeded=F("succeeded") + counts["succeeded"],
            skipped=F("skipped") + counts["skipped"],
            failed=F("failed") + counts["failed"],
            errors=locked.errors + errors[:room],
            heartbeat_at=timezone.now(),
        )
