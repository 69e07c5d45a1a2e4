"""Breaks: records a run left unmatched become RECONCILIATION_BREAK exception
items, one per record, deduplicated across runs by a key naming the
reconciliation, the side and the record; a later run that matches the record
resolves its item.

A run can leave tens of thousands of records unmatched, so items are opened,
counted again and resolved set-based by the queue's `set_writes` (the fields
and routing `exception_open` and `exception_resolve_if_open` set, and a history
row for each item, in a few statements for the whole run), in the run's
transaction. A clash with an item opened meanwhile by someone else falls back
to the queue's own service item by item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from exceptions_queue import set_writes
from exceptions_queue.codes import ExceptionCode, make_dedupe_key
from exceptions_queue.models import OPEN_STATUSES, ExceptionItem, Status
from exceptions_queue.services import exception_open, normalise_error_details
from reconciliation.engine_results import LINE_FIELDS, SIDE_VALUES
from reconciliation.models import Reconciliation, Run, Side
from reconciliation.subjects import side_model
from revops.actors import Actor
from revops.models import Customer, LegalEntity

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


@dataclass(frozen=True)
class OpenBreak:
    pk: int
    status: str
    title: str
    message: str
    error_details: list
    amount: Decimal | None
    # (side, source key) of the record it is about; None when neither its key nor its payload says.
    record: tuple[str, str] | None


def open_breaks_locked(reconciliation_id: int) -> dict[str, OpenBreak]:
    """dedupe key → this reconciliation's open breaks, locked for the run's
    transaction: what a run compares its unmatched and matched records with
    (one query, not one per thousand keys)."""
    items = (
        ExceptionItem.objects.select_for_update()
        .filter(dedupe_key__startswith=key_prefix(reconciliation_id), status__in=OPEN_STATUSES)
        .order_by()
        .values_list(
            "pk",
            "dedupe_key",
            "status",
            "title",
            "message",
            "error_details",
            "amount",
            "payload__side",
            "payload__source_key",
        )
    )
    return {
        key: OpenBreak(pk, status, title, message, details, amount, _record(key, side, source_key))
        for pk, key, status, title, message, details, amount, side, source_key in items.iterator(
            chunk_size=BATCH
        )
    }


def _record(dedupe_key: str, side, source_key) -> tuple[str, str] | None:
    """The record a break is about: from its dedupe key, or (keys of another
    shape) from its payload."""
    parsed = parse_break_key(dedupe_key)
    if parsed is not None:
        return parsed[1], parsed[2]
    if isinstance(side, str) and side and isinstance(source_key, str) and source_key:
        return side, source_key
    return None


def line_side(line, side: str) -> dict:
    """One side of a report line as a record's row (the shape of the engine's
    `unmatched_records`), which describe() and the payload read."""
    values = {
        name: getattr(line, f"{side}_{field}") for name, field in zip(SIDE_VALUES, LINE_FIELDS, strict=True)
    }
    return {**values, "side": side, "currency": line.currency}


def sync_breaks(
    *,
    run: Run,
    unmatched: list[dict],
    near_misses: dict[tuple[str, str], dict],
    matched: set[tuple[str, str]],
    existing: dict[str, OpenBreak],
    actor: Actor,
) -> BreakCounts:
    """Open or count again a break for each record the run left `unmatched`
    (the engine's `unmatched_records`), and resolve the open breaks (`existing`,
    from `open_breaks_locked`) of the records it matched (`matched`)."""
    recon = run.reconciliation
    counts = BreakCounts()
    now = timezone.now()
    from reconciliation.sources import BREAK_SIDES

    unmatched = [row for row in unmatched if row["side"] in BREAK_SIDES[recon.kind]]
    keyed = {break_key(recon.pk, row["side"], row["source_key"]): row for row in unmatched}
    customers = dict(
        Customer.objects.filter(
            number__in={row["customer_key"] for row in unmatched if row["customer_key"]}
        ).values_list("number", "id")
    )
    new_items, again, changed = [], [], {}
    for key, row in keyed.items():
        near = near_misses.get((row["side"], row["source_key"]))
        title, message, details = describe(recon, row, near)
        item = existing.get(key)
        if item is None:
            new_items.append(_new_values(recon, row, key, title, message, details, customers))
        elif _same(item, row, title, message, details):
            again.append(item.pk)
        else:
            changed[item.pk] = (row, title, message, details)
    counts.opened = _create(new_items, actor, now)
    counts.seen_again = set_writes.count_again_many(ids=again, actor=actor, now=now) + len(changed)
    if changed:
        _update_changed(changed, recon, actor, now)
    resolved = [item.pk for item in existing.values() if item.record in matched]
    counts.resolved = set_writes.resolve_many(
        ids=resolved, note=f"Matched by run {run.pk} of {recon.name}", actor=actor, now=now
    )
    return counts


def _update_changed(changed: dict[int, tuple], recon: Reconciliation, actor: Actor, now) -> None:
    """Breaks seen again with other amounts or differences (few): rewritten with history."""
    items = list(ExceptionItem.objects.filter(pk__in=list(changed)))
    for item in items:
        row, title, message, details = changed[item.pk]
        _seen_changed(item, recon, row, title, message, details, now, actor)
    bulk_update_with_history(
        items,
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


def _attrs(actor: Actor) -> dict[str, str]:
    return {"history_source": actor.system, "history_actor": actor.label}


def _same(item: OpenBreak, row: dict, title: str, message: str, details: list) -> bool:
    """Seen again exactly as before, and not waiting on a resubmission."""
    return (
        item.status != Status.RESUBMITTED
        and item.title == title[:200]
        and item.message == message
        and item.error_details == normalise_error_details(details)
        and item.amount == row["amount"]
    )


def close_items(dedupe_keys: Iterable[str], *, note: str, actor: Actor, now) -> int:
    """Resolve the open items with these dedupe keys, set-based, with their history."""
    items = _open_items(dedupe_keys)
    return set_writes.resolve_many(ids=[item.pk for item in items.values()], note=note, actor=actor, now=now)


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
    what = row["reference"] or row["source_key"]
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


def _new_values(recon, row, key, title, message, details, customers) -> dict:
    """A new break's fields, as `exception_open` would set them from its arguments."""
    values = {
        "dedupe_key": key,
        "title": title,
        "message": message,
        "source_system": "revops",
        "legal_entity_id": recon.legal_entity_id,
        "external_id": row["source_key"],
        "customer_id": customers.get(row["customer_key"]),
        "amount": row["amount"],
        "currency": row["currency"],
        "payload": break_payload(recon, row),
        "error_details": details,
    }
    model = side_model(recon.kind, row["side"])
    if model is not None and row["source_id"] is not None:
        values["content_type_id"] = ContentType.objects.get_for_model(model).pk
        values["object_id"] = row["source_id"]
        values["object_label"] = row["reference"]
    return values


def _seen_changed(item, recon, row, title, message, details, now, actor) -> ExceptionItem:
    item.occurrences += 1
    item.last_seen_at = max(now, item.last_seen_at)
    item.title, item.message = title[:200], message
    item.error_details = normalise_error_details(details)
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


def _create(items: list[dict], actor: Actor, now) -> int:
    if not items:
        return 0
    try:
        with transaction.atomic():
            return set_writes.open_many(code=CODE, step_key=STEP_KEY, items=items, actor=actor, now=now)
    except IntegrityError as exc:
        if not set_writes.clashes(exc):
            raise
    # Someone opened one of these meanwhile: go through the service one by one.
    for values in items:
        exception_open(
            code=CODE,
            dedupe_key=values["dedupe_key"],
            title=values["title"],
            message=values["message"],
            step_key=STEP_KEY,
            actor=actor,
            source_system=values["source_system"],
            legal_entity=LegalEntity.objects.filter(pk=values["legal_entity_id"]).first(),
            external_id=values["external_id"],
            customer=Customer.objects.filter(pk=values["customer_id"]).first(),
            amount=values["amount"],
            currency=values["currency"],
            payload=values["payload"],
            error_details=values["error_details"],
        )
    return len(items)
