"""Breaks: records a run left unmatched become RECONCILIATION_BREAK exception
items, one per record, deduplicated across runs by a key naming the
reconciliation, the side and the record; a later run that matches the record
resolves its item.

A run can leave tens of thousands of records unmatched, so items are opened,
counted again and resolved in bulk: the same fields `exception_open` and
`exception_resolve_if_open` set (routing included), written with their history
rows in a few statements per thousand items (django-simple-history's bulk
helpers, or one UPDATE of the same values followed by the history rows of the
instances written), in the run's transaction. A clash with an item opened
meanwhile by someone else falls back to the queue's own service for that item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from exceptions_queue.codes import ExceptionCode, code_info, make_dedupe_key
from exceptions_queue.models import OPEN_STATUSES, PRIORITY_FOR_SEVERITY, ExceptionItem, Status
from exceptions_queue.notifications import NOTIFY_AT_PRIORITY, notify_new_item
from exceptions_queue.routing import first_match, rules_in_order
from exceptions_queue.services import exception_open
from reconciliation.models import Outcome, Reconciliation, Run, RunLine, Side
from reconciliation.subjects import side_model
from revops.actors import Actor
from revops.models import Customer

STEP_KEY = "reconciliation.break"
PLACES = Decimal("0.0001")
CODE = ExceptionCode.RECONCILIATION_BREAK
BATCH = 2_000
# Django's bulk_update writes one CASE per field over the whole batch, which the
# database evaluates row by row: small batches keep it linear.
UPDATE_BATCH = 100


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


def unmatched_rows(run: Run) -> list[dict]:
    """The records a run left unmatched, one dict per record (its side's columns)."""
    first_last = (run.line_ranges or {}).get(Outcome.UNMATCHED)
    if not first_last:
        return []
    rows = []
    lines = RunLine.objects.filter(run=run, outcome=Outcome.UNMATCHED, id__range=first_last).order_by("id")
    for line in lines.iterator(chunk_size=BATCH):
        rows.append(line_side(line, Side.LEFT if line.left_key else Side.RIGHT))
    return rows


def line_side(line: RunLine, side: str) -> dict:
    """One side of a report line as the row describe() and the payload read."""
    return {
        "side": side,
        "source_key": getattr(line, f"{side}_key"),
        "source_id": getattr(line, f"{side}_id"),
        "reference": getattr(line, f"{side}_reference"),
        "customer_key": getattr(line, f"{side}_customer"),
        "label": getattr(line, f"{side}_reference"),
        "record_date": getattr(line, f"{side}_date"),
        "amount": getattr(line, f"{side}_amount"),
        "tax_amount": getattr(line, f"{side}_tax"),
        "currency": line.currency,
        "status": getattr(line, f"{side}_status"),
    }


def open_break_records(reconciliation_id: int) -> dict[tuple[str, str], str]:
    """(side, source key) → dedupe key of this reconciliation's open breaks."""
    found = {}
    items = ExceptionItem.objects.filter(
        dedupe_key__startswith=key_prefix(reconciliation_id), status__in=OPEN_STATUSES
    )
    for key, payload in items.values_list("dedupe_key", "payload").iterator(chunk_size=BATCH):
        parsed = parse_break_key(key)
        if parsed is not None:
            found[(parsed[1], parsed[2])] = key
        elif isinstance(payload, dict) and payload.get("side") and payload.get("source_key"):
            found[(payload["side"], payload["source_key"])] = key
    return found


def sync_breaks(
    *,
    run: Run,
    near_misses: dict[tuple[str, str], dict],
    matched: set[tuple[str, str]],
    open_breaks: dict[tuple[str, str], str],
    actor: Actor,
) -> BreakCounts:
    """Open or count again a break for each record the run left unmatched, and
    resolve the open breaks (`open_breaks`) of the records it matched (`matched`)."""
    recon = run.reconciliation
    counts = BreakCounts()
    now = timezone.now()
    from reconciliation.sources import BREAK_SIDES

    unmatched = [row for row in unmatched_rows(run) if row["side"] in BREAK_SIDES[recon.kind]]
    keyed = {break_key(recon.pk, row["side"], row["source_key"]): row for row in unmatched}
    existing = _open_items(keyed)
    customers = dict(
        Customer.objects.filter(
            number__in={row["customer_key"] for row in unmatched if row["customer_key"]}
        ).values_list("number", "id")
    )
    new_items, again, changed = [], [], []
    rules = rules_in_order()
    for key, row in keyed.items():
        near = near_misses.get((row["side"], row["source_key"]))
        title, message, details = describe(recon, row, near)
        item = existing.get(key)
        if item is None:
            item = _new_item(recon, row, key, title, message, details, customers, now, actor)
            _route(item, rules, now)
            new_items.append(item)
        elif _same(item, row, title, message, details):
            again.append(item)
        else:
            changed.append(_seen_changed(item, recon, row, title, message, details, now, actor))
    counts.opened = _create(new_items, actor, now)
    counts.seen_again = _count_again(again, actor, now) + len(changed)
    if changed:
        bulk_update_with_history(
            changed,
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
            batch_size=UPDATE_BATCH,
            default_date=now,
            custom_historical_attrs=_attrs(actor),
        )
    resolved = [dedupe_key for record, dedupe_key in open_breaks.items() if record in matched]
    counts.resolved = close_items(
        resolved, note=f"Matched by run {run.pk} of {recon.name}", actor=actor, now=now
    )
    return counts


def _attrs(actor: Actor) -> dict[str, str]:
    return {"history_source": actor.system, "history_actor": actor.label}


def _same(item: ExceptionItem, row: dict, title: str, message: str, details: list) -> bool:
    """Seen again exactly as before, and not waiting on a resubmission."""
    return (
        item.status != Status.RESUBMITTED
        and item.title == title[:200]
        and item.message == message
        and item.error_details == details
        and item.amount == row["amount"]
    )


def _count_again(items: list[ExceptionItem], actor: Actor, now) -> int:
    """Records still unmatched as they were: count them once more, set-based."""
    for item in items:
        item.occurrences += 1
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        ExceptionItem.objects.filter(pk__in=[item.pk for item in chunk]).update(
            occurrences=F("occurrences") + 1, last_seen_at=now, updated_at=now
        )
        for item in chunk:
            item.last_seen_at = item.updated_at = now
            item._history_user = actor.user
            item._change_reason = f"Seen again ({item.occurrences} times)"
        ExceptionItem.history.bulk_history_create(
            chunk, default_date=now, custom_historical_attrs=_attrs(actor)
        )
    return len(items)


def close_items(dedupe_keys: Iterable[str], *, note: str, actor: Actor, now) -> int:
    """Resolve the open items with these dedupe keys, set-based, with their history."""
    items = list(_open_items(dedupe_keys).values())
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        ExceptionItem.objects.filter(pk__in=[item.pk for item in chunk]).update(
            status=Status.RESOLVED, resolution_note=note, resolved_at=now, updated_at=now
        )
        for item in chunk:
            item.status, item.resolution_note, item.resolved_at, item.updated_at = (
                Status.RESOLVED,
                note,
                now,
                now,
            )
            item._history_user = actor.user
            item._change_reason = f"Resolved: {note}"
        ExceptionItem.history.bulk_history_create(
            chunk, default_date=now, custom_historical_attrs=_attrs(actor)
        )
    return len(items)


def break_payload(recon: Reconciliation, row: dict) -> dict:
    return {
        "reconciliation": recon.name,
        "reconciliation_id": recon.pk,
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


def describe(recon: Reconciliation, row: dict, near: dict | None) -> tuple[str, str, list[dict]]:
    """Title, message and the differing fields, written for a finance analyst."""
    from reconciliation.sources import SIDE_LABELS

    left_label, right_label = SIDE_LABELS[recon.kind]
    here, there = (left_label, right_label) if row["side"] == Side.LEFT else (right_label, left_label)
    what = row["reference"] or row["label"] or row["source_key"]
    amount = f"{row['amount']:,.2f} {row['currency']}"
    if near is None:
        title = f"{what} ({amount}) in {here} has no match in {there}"
        message = (
            f"Reconciliation {recon.name} found {what} in {here} ({amount}, dated {row['record_date']}, "
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
        if field in ("amount", "tax_amount"):
            mine, theirs = Decimal(str(mine)).quantize(PLACES), Decimal(str(theirs)).quantize(PLACES)
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
        f"Reconciliation {recon.name}: {what} in {here} ({amount}) shares its reference with "
        f"{near['reference'] or near['source_key']} in {there} ({near['amount']:,.2f} {near['currency']}), but "
        f"their {differs} disagree beyond what the rules accept. Correct the record that is wrong in its own "
        "system; the break resolves itself when a later run matches them. Resubmit to run the reconciliation again."
    )
    return title, message, details


def _new_item(recon, row, key, title, message, details, customers, now, actor) -> ExceptionItem:
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
        payload=break_payload(recon, row),
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
    item._history_user = actor.user
    item._change_reason = f"Opened: {title[:300]}"
    return item


def _route(item: ExceptionItem, rules, now) -> None:
    """What `exceptions_queue.routing.apply_routing` sets, with the rules read
    once for the whole run instead of once per item."""
    rule = first_match(item, rules)
    item.routing_rule = rule
    if rule is None:
        item.priority = PRIORITY_FOR_SEVERITY[item.severity]
        return
    item.team = rule.team
    item.priority = rule.priority or PRIORITY_FOR_SEVERITY[item.severity]
    item.due_at = now + dt.timedelta(hours=rule.sla_hours) if rule.sla_hours else None
    item._change_reason += f" (routed to {item.team} by rule {rule.name})"


def _seen_changed(item, recon, row, title, message, details, now, actor) -> ExceptionItem:
    item.occurrences += 1
    item.last_seen_at = max(now, item.last_seen_at)
    item.title, item.message, item.error_details = title[:200], message, details
    item.payload = break_payload(recon, row)
    item.amount, item.currency = row["amount"], row["currency"]
    if item.status == Status.RESUBMITTED:
        item.status = Status.NEW
        reason = f"Failed again after resubmission: {title[:300]}"
    else:
        reason = f"Seen again, changed ({item.occurrences} times)"
    item.updated_at = now
    item._history_user = actor.user
    item._change_reason = reason
    return item


def _create(items: list[ExceptionItem], actor: Actor, now) -> int:
    if not items:
        return 0
    attrs = _attrs(actor)
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
