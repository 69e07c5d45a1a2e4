"""Breaks: records a run left unmatched become RECONCILIATION_BREAK exception
items, one per record, deduplicated across runs by a key naming the
reconciliation, the side and the record; a later run that matches the record
resolves its item.

A run can leave tens of thousands of records unmatched, so items are opened,
counted again and resolved in bulk: the same fields `exception_open` and
`exception_resolve_if_open` set (routing included), written with their history
rows in a few statements (django-simple-history's bulk helpers), in the run's
transaction. A clash with an item opened meanwhile by someone else falls back
to the queue's own service for that item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from exceptions_queue.codes import ExceptionCode, code_info, make_dedupe_key
from exceptions_queue.models import OPEN_STATUSES, ExceptionItem, Status
from exceptions_queue.notifications import NOTIFY_AT_PRIORITY, notify_new_item
from exceptions_queue.routing import apply_routing
from exceptions_queue.services import exception_open
from reconciliation.models import Outcome, Reconciliation, Run, RunItem, Side
from reconciliation.subjects import side_model
from revops.actors import Actor
from revops.models import Customer

STEP_KEY = "reconciliation.break"
CODE = ExceptionCode.RECONCILIATION_BREAK
BATCH = 2_000


def break_ref(reconciliation_id: int, side: str, source_key: str) -> str:
    return f"reconciliation:{reconciliation_id}:{side}:{source_key}"


def break_key(reconciliation_id: int, side: str, source_key: str) -> str:
    return make_dedupe_key(CODE, break_ref(reconciliation_id, side, source_key))


def key_prefix(reconciliation_id: int) -> str:
    return f"{CODE}|reconciliation:{reconciliation_id}:"


def parse_break_key(dedupe_key: str) -> tuple[int, str, str] | None:
    """(reconciliation id, side, source key) named by a break's dedupe key."""
    prefix = f"{CODE}|reconciliation:"
    if not dedupe_key.startswith(prefix) or "#" in dedupe_key:
        return None
    try:
        recon_id, side, rest = dedupe_key[len(prefix) :].split(":", 2)
        return int(recon_id), side, rest.rsplit("|", 1)[0]
    except ValueError:
        return None


@dataclass
class BreakCounts:
    opened: int = 0
    seen_again: int = 0
    resolved: int = 0


def _open_items(keys: Iterable[str]) -> dict[str, ExceptionItem]:
    found: dict[str, ExceptionItem] = {}
    keys = list(keys)
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        for item in ExceptionItem.objects.select_for_update().filter(
            dedupe_key__in=chunk, status__in=OPEN_STATUSES
        ):
            found[item.dedupe_key] = item
    return found


def sync_breaks(*, run: Run, near_misses: dict[tuple[str, str], dict], actor: Actor) -> BreakCounts:
    """Open or count again a break for each record the run left unmatched, and
    resolve the open breaks of the records it matched."""
    recon = run.reconciliation
    counts = BreakCounts()
    now = timezone.now()
    unmatched = list(
        RunItem.objects.filter(run=run, outcome=Outcome.UNMATCHED)
        .order_by("id")
        .values(
            "side",
            "source_key",
            "source_id",
            "reference",
            "customer_key",
            "label",
            "record_date",
            "amount",
            "tax_amount",
            "currency",
            "status",
        )
    )
    keyed = {break_key(recon.pk, row["side"], row["source_key"]): row for row in unmatched}
    existing = _open_items(keyed)
    customers = dict(
        Customer.objects.filter(
            number__in={row["customer_key"] for row in unmatched if row["customer_key"]}
        ).values_list("number", "id")
    )
    new_items, again = [], []
    for key, row in keyed.items():
        near = near_misses.get((row["side"], row["source_key"]))
        title, message, details = describe(recon, run, row, near)
        item = existing.get(key)
        if item is None:
            new_items.append(_new_item(recon, run, row, key, title, message, details, customers, now, actor))
        else:
            again.append(_seen_again(item, run, row, title, message, details, now, actor))
    counts.opened = _create(new_items, actor, now)
    if again:
        bulk_update_with_history(
            again,
            ExceptionItem,
            fields=[
                "occurrences",
                "last_seen_at",
                "title",
                "message",
                "error_details",
                "payload",
                "status",
                "amount",
                "currency",
                "updated_at",
            ],
            batch_size=BATCH,
            default_date=now,
            custom_historical_attrs={"history_source": actor.system, "history_actor": actor.label},
        )
    counts.seen_again = len(again)
    counts.resolved = resolve_matched(run=run, actor=actor, now=now)
    return counts


def resolve_matched(*, run: Run, actor: Actor, now=None) -> int:
    """Resolve the open breaks of records this run matched (automatically or by confirmation)."""
    now = now or timezone.now()
    recon = run.reconciliation
    open_keys = set(
        ExceptionItem.objects.filter(
            dedupe_key__startswith=key_prefix(recon.pk), status__in=OPEN_STATUSES
        ).values_list("dedupe_key", flat=True)
    )
    if not open_keys:
        return 0
    matched = RunItem.objects.filter(run=run, outcome=Outcome.MATCHED).values_list(
        "side", "source_key", "group_no"
    )
    notes = {}
    for side, source_key, group_no in matched.iterator(chunk_size=BATCH):
        key = break_key(recon.pk, side, source_key)
        if key in open_keys:
            notes[key] = f"Matched by run {run.pk} of {recon.name} (group {group_no})"
    return close_items(notes, actor=actor, now=now)


def close_items(notes: dict[str, str], *, actor: Actor, now) -> int:
    """Resolve the open items with these dedupe keys, each with its note."""
    items = list(_open_items(notes).values())
    for item in items:
        item.status = Status.RESOLVED
        item.resolution_note = notes[item.dedupe_key]
        item.resolved_at = now
        item.updated_at = now
        item._history_user = actor.user
        item._change_reason = f"Resolved: {item.resolution_note}"
    if items:
        bulk_update_with_history(
            items,
            ExceptionItem,
            fields=["status", "resolution_note", "resolved_at", "updated_at"],
            batch_size=BATCH,
            default_date=now,
            custom_historical_attrs={"history_source": actor.system, "history_actor": actor.label},
        )
    return len(items)


def _payload(recon: Reconciliation, run: Run, row: dict) -> dict:
    return {
        "reconciliation": recon.name,
        "reconciliation_id": recon.pk,
        "run_id": run.pk,
        "side": row["side"],
        "source_key": row["source_key"],
        "reference": row["reference"],
        "customer": row["customer_key"],
        "date": row["record_date"].isoformat() if row["record_date"] else None,
        "amount": str(row["amount"]),
        "tax_amount": str(row["tax_amount"]),
        "currency": row["currency"],
        "status": row["status"],
    }


def describe(recon: Reconciliation, run: Run, row: dict, near: dict | None) -> tuple[str, str, list[dict]]:
    """Title, message and the differing fields, written for a finance analyst."""
    from reconciliation.sources import SIDE_LABELS

    left_label, right_label = SIDE_LABELS[recon.kind]
    here, there = (left_label, right_label) if row["side"] == Side.LEFT else (right_label, left_label)
    what = row["reference"] or row["label"] or row["source_key"]
    amount = f"{row['amount']:,.2f} {row['currency']}"
    if near is None:
        title = f"{what} ({amount}) in {here} has no match in {there}"
        message = (
            f"Run {run.pk} of {recon.name} found {what} in {here} ({amount}, dated {row['record_date']}, "
            f"customer {row['customer_key'] or 'unknown'}) and nothing in {there} that matches it by reference, "
            f"or by amount, customer and date. Check whether it is missing from {there} or recorded there under "
            "another number or customer. The break resolves itself when a later run matches it; resubmit to run "
            "the reconciliation again now."
        )
        return title, message, []
    details = []
    for field, label in (
        ("amount", "Amount"),
        ("tax_amount", "Tax"),
        ("currency", "Currency"),
        ("status", "Status"),
    ):
        mine, theirs = row[field], near[field]
        if str(mine) != str(theirs):
            details.append(
                {
                    "field": field,
                    "label": label,
                    "message": f"{label} differs from {there}",
                    "expected": str(theirs),
                    "actual": str(mine),
                }
            )
    differs = ", ".join(d["label"].lower() for d in details) or "the rules' tolerance"
    title = f"{what} in {here} differs from {there} ({differs})"
    message = (
        f"Run {run.pk} of {recon.name}: {what} in {here} ({amount}) shares its reference with "
        f"{near['reference'] or near['source_key']} in {there} ({near['amount']:,.2f} {near['currency']}), but "
        f"their {differs} disagree beyond what the rules accept. Correct the record that is wrong in its own "
        "system; the break resolves itself when a later run matches them. Resubmit to run the reconciliation again."
    )
    return title, message, details


def _new_item(recon, run, row, key, title, message, details, customers, now, actor) -> ExceptionItem:
    info = code_info(CODE)
    model = side_model(recon.kind, row["side"])
    item = ExceptionItem(
        code=info.code,
        severity=info.severity,
        status=Status.NEW,
        dedupe_key=key,
        step_key=STEP_KEY,
        title=title[:200],
        message=message,
        source_system="revops",
        legal_entity_id=recon.legal_entity_id,
        external_id=row["source_key"][:255],
        customer_id=customers.get(row["customer_key"]),
        amount=row["amount"],
        currency=row["currency"],
        payload=_payload(recon, run, row),
        error_details=details,
        first_seen_at=now,
        last_seen_at=now,
        created_at=now,
        updated_at=now,
    )
    if model is not None and row["source_id"] is not None:
        item.content_type = ContentType.objects.get_for_model(model)
        item.object_id = row["source_id"]
        item.object_label = (row["label"] or row["reference"])[:200]
    rule = apply_routing(item, opened_at=now)
    routed = f" (routed to {item.team} by rule {rule.name})" if rule is not None else ""
    item._history_user = actor.user
    item._change_reason = f"Opened: {title[:300]}{routed}"
    return item


def _seen_again(item, run, row, title, message, details, now, actor) -> ExceptionItem:
    item.occurrences += 1
    item.last_seen_at = max(now, item.last_seen_at)
    item.title, item.message, item.error_details = title[:200], message, details
    item.payload = _payload(run.reconciliation, run, row)
    item.amount, item.currency = row["amount"], row["currency"]
    if item.status == Status.RESUBMITTED:
        item.status = Status.NEW
        reason = f"Failed again after resubmission: {title[:300]}"
    else:
        reason = f"Seen again ({item.occurrences} times)"
    item.updated_at = now
    item._history_user = actor.user
    item._change_reason = reason
    return item


def _create(items: list[ExceptionItem], actor: Actor, now) -> int:
    if not items:
        return 0
    attrs = {"history_source": actor.system, "history_actor": actor.label}
    try:
        with transaction.atomic():
            created = bulk_create_with_history(
                items, ExceptionItem, batch_size=BATCH, default_date=now, custom_historical_attrs=attrs
            )
    except IntegrityError:
        # Someone opened one of these meanwhile: go through the service one by one.
        for item in items:
            exception_open(
                code=item.code,
                dedupe_key=item.dedupe_key,
                title=item.title,
                message=item.message,
                step_key=item.step_key,
                actor=actor,
                source_system=item.source_system,
                legal_entity=item.legal_entity,
                external_id=item.external_id,
                customer=item.customer,
                amount=item.amount,
                currency=item.currency,
                payload=item.payload,
                error_details=item.error_details,
            )
        return len(items)
    urgent = [item.pk for item in created if item.priority <= NOTIFY_AT_PRIORITY and item.team_id]
    for pk in urgent:
        transaction.on_commit(lambda pk=pk: notify_new_item(pk))
    return len(created)
