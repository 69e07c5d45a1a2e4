"""Set-based writes of many exception items at once, with their history rows.

A reconciliation run can leave tens of thousands of records unmatched, each an
item to open, count again or resolve. Going through `exception_open` item by
item (or Django's bulk helpers, which quote every value in Python) costs
seconds per thousand; here the rows are staged once (COPY on PostgreSQL, a
batched insert on SQLite) and written with a few INSERT … SELECT and UPDATE
statements, whose history rows are copied from the rows just written in the
same way: django-simple-history sees none of these writes, so every function
writes the history rows itself, with the same who and why the single-item
services stamp.

The fields are the ones the single-item services set: `open_many` routes each
new item with `routing.route` (the rule list read once), as `exception_open`
does through `apply_routing`; the history reasons are the same words.
"""

# Statements are put together from the models' own table and column names; every value is a
# query parameter or staged through COPY.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction

from exceptions_queue.codes import DEDUPE_KEY_MAX, code_info
from exceptions_queue.models import OPEN_STATUSES, ExceptionItem, Status
from exceptions_queue.notifications import NOTIFY_AT_PRIORITY, notify_new_item
from exceptions_queue.routing import routing_for, rules_in_order
from exceptions_queue.services import REASON_EXCERPT, TITLE_MAX, normalise_error_details, shorten
from revops.actors import Actor

ITEMS = ExceptionItem._meta.db_table
HISTORY = ExceptionItem.history.model._meta.db_table
NEW_STAGE = "exq_stage_new"
ID_STAGE = "exq_stage_ids"
SQLITE_BATCH = 500

# What a caller may give for each new item; the rest is set here as exception_open sets it.
GIVEN = (
    "dedupe_key",
    "title",
    "message",
    "source_system",
    "legal_entity_id",
    "external_id",
    "customer_id",
    "amount",
    "currency",
    "payload",
    "error_details",
    "content_type_id",
    "object_id",
    "object_label",
)
ATTRIBUTION = ("history_date", "history_change_reason", "history_type", "history_user_id")


def _item_fields():
    return [field for field in ExceptionItem._meta.concrete_fields if not field.primary_key]


def _tracked_columns() -> list[str]:
    """The item's columns its history rows copy (history leaves out updated_at and notified_at)."""
    item_columns = {field.column for field in ExceptionItem._meta.concrete_fields}
    return [
        field.column
        for field in ExceptionItem.history.model._meta.concrete_fields
        if field.column in item_columns
    ]


def _history_insert(source: str, reason: str) -> str:
    """INSERT of one history row per item `e` in `source` (a FROM … WHERE clause),
    with `reason` (an SQL expression) as the change reason. Parameters, in order:
    the source's, then history date, type, user id, source system and actor label."""
    tracked = _tracked_columns()
    columns = ", ".join([*tracked, *ATTRIBUTION, "history_source", "history_actor"])
    values = ", ".join(f"e.{column}" for column in tracked)
    return f"""INSERT INTO {HISTORY} ({columns})
        SELECT {values}, %s, {reason}, %s, %s, %s, %s FROM {source}"""


def _history_params(now: dt.datetime, kind: str, actor: Actor) -> list:
    return [_when(now), kind, actor.user.pk if actor.user is not None else None, actor.system, actor.label]


def _when(moment: dt.datetime):
    """A time as a raw statement's parameter, stored as the ORM stores it (SQLite keeps
    times as text: another spelling would sort and compare differently)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _temp_table(cursor, name: str, select: str) -> None:
    """A temporary table shaped like `select`, empty, private to this connection."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    drop = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    cursor.execute(f"CREATE TEMPORARY TABLE {name}{drop} AS {select} WHERE 1 = 0")


def _stage(cursor, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows into a staging table: COPY on PostgreSQL, batched inserts elsewhere."""
    listed = ", ".join(columns)
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY {name} ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join(["%s"] * len(columns))
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == SQLITE_BATCH:
            cursor.executemany(f"INSERT INTO {name} ({listed}) VALUES ({placeholders})", batch)
            batch = []
    if batch:
        cursor.executemany(f"INSERT INTO {name} ({listed}) VALUES ({placeholders})", batch)


def _stage_ids(cursor, ids: Iterable[int]) -> None:
    _temp_table(cursor, ID_STAGE, f"SELECT id FROM {ITEMS}")
    _stage(cursor, ID_STAGE, ["id"], ((pk,) for pk in ids))


class _Routed:
    """What routing reads of an item, without building a model instance."""

    __slots__ = ("amount", "code", "connector_name", "currency", "legal_entity_id", "severity")

    def __init__(self, values: Mapping[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))


def _new_row(
    values: Mapping[str, Any], *, code: str, step_key: str, rules, defaults: dict, now: dt.datetime
) -> dict:
    unknown = set(values) - set(GIVEN)
    if unknown:
        raise TypeError(f"Not fields open_many takes: {sorted(unknown)}")
    info = code_info(code)
    title = shorten(values.get("title") or "", TITLE_MAX)
    dedupe_key = (values.get("dedupe_key") or "").strip()
    if not title or not dedupe_key or len(dedupe_key) > DEDUPE_KEY_MAX:
        raise ValueError(f"An item needs a title and a dedupe key of at most {DEDUPE_KEY_MAX} characters.")
    currency = (values.get("currency") or "").strip().upper()
    if values.get("amount") is not None and not currency:
        raise ValueError("An amount needs its currency.")
    row = {**defaults, **values}
    row.update(
        code=info.code,
        severity=info.severity,
        status=Status.NEW,
        step_key=step_key,
        title=title,
        dedupe_key=dedupe_key,
        currency=currency,
        message=(values.get("message") or "").strip(),
        error_details=normalise_error_details(values.get("error_details")),
        external_id=(values.get("external_id") or "").strip()[:255],
        object_label=shorten(values.get("object_label") or "", 200),
        first_seen_at=now,
        last_seen_at=now,
        created_at=now,
        updated_at=now,
        occurrences=1,
    )
    rule, routing = routing_for(_Routed(row), opened_at=now, rules=rules)
    row.update(routing)
    suffix = f" (routed to {rule.team} by rule {rule.name})" if rule is not None else ""
    row["_reason"] = f"Opened: {shorten(title, REASON_EXCERPT)}{suffix}"
    return row


def _converters(fields, *, copy: bool) -> list:
    """Per field, what turns a row's value into what the staging table takes: JSON
    as text; on PostgreSQL, COPY adapts the rest; elsewhere the field prepares it."""

    def as_json(field):
        encoder = field.encoder or DjangoJSONEncoder
        if field.null:
            return lambda value: None if value is None else json.dumps(value, cls=encoder)
        return lambda value: json.dumps(value, cls=encoder)

    def as_is(field):
        if copy:
            return lambda value: value
        return lambda value: field.get_db_prep_save(value, connection)

    return [as_json(field) if field.get_internal_type() == "JSONField" else as_is(field) for field in fields]


@transaction.atomic
def open_many(
    *, code: str, step_key: str, items: Sequence[Mapping[str, Any]], actor: Actor, now: dt.datetime
) -> int:
    """Open one new item per mapping (fields named in GIVEN), routed and with a
    history row each; returns how many. Each dedupe key must have no open item
    (the caller looked them up under lock): a clash with an item someone opened
    meanwhile fails the whole call with IntegrityError, and nothing is written."""
    if not items:
        return 0
    rules = rules_in_order()
    fields = _item_fields()
    defaults = {field.attname: field.get_default() for field in fields}
    rows = [
        _new_row(values, code=code, step_key=step_key, rules=rules, defaults=defaults, now=now)
        for values in items
    ]
    columns = [field.column for field in fields]
    copy = connection.vendor == "postgresql"
    convert = list(zip([field.attname for field in fields], _converters(fields, copy=copy), strict=True))
    listed = ", ".join(columns)
    with connection.cursor() as cursor:
        _temp_table(
            cursor,
            NEW_STAGE,
            f"SELECT {listed}, CAST(title AS TEXT) AS history_reason FROM {ITEMS}",
        )
        _stage(
            cursor,
            NEW_STAGE,
            [*columns, "history_reason"],
            ([*(to_db(row[name]) for name, to_db in convert), row["_reason"]] for row in rows),
        )
        open_statuses = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
        with transaction.atomic():
            cursor.execute(f"INSERT INTO {ITEMS} ({listed}) SELECT {listed} FROM {NEW_STAGE}")
        cursor.execute(
            _history_insert(
                f"""{ITEMS} e JOIN {NEW_STAGE} s ON s.dedupe_key = e.dedupe_key
                WHERE e.status IN ({open_statuses})""",
                "s.history_reason",
            ),
            _history_params(now, "+", actor),
        )
        cursor.execute(
            f"""SELECT e.id FROM {ITEMS} e JOIN {NEW_STAGE} s ON s.dedupe_key = e.dedupe_key
            WHERE e.status IN ({open_statuses}) AND e.priority <= %s AND e.team_id IS NOT NULL""",
            [NOTIFY_AT_PRIORITY],
        )
        urgent = [pk for (pk,) in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {NEW_STAGE}")
    for pk in urgent:
        transaction.on_commit(lambda pk=pk: notify_new_item(pk))
    return len(rows)


@transaction.atomic
def count_again_many(*, ids: Iterable[int], actor: Actor, now: dt.datetime) -> int:
    """Open items seen again unchanged: one more occurrence each, last seen now,
    with the history row `exception_open` writes for a repeat."""
    ids = list(ids)
    if not ids:
        return 0
    with connection.cursor() as cursor:
        _stage_ids(cursor, ids)
        staged = f"(SELECT id FROM {ID_STAGE})"
        cursor.execute(
            f"""UPDATE {ITEMS} SET occurrences = occurrences + 1, last_seen_at = %s, updated_at = %s
            WHERE id IN {staged}""",
            [_when(now), _when(now)],
        )
        reason = "'Seen again (' || CAST(e.occurrences AS VARCHAR(20)) || ' times)'"
        cursor.execute(
            _history_insert(f"{ITEMS} e WHERE e.id IN {staged}", reason), _history_params(now, "~", actor)
        )
        cursor.execute(f"DROP TABLE {ID_STAGE}")
    return len(ids)


@transaction.atomic
def resolve_many(*, ids: Iterable[int], note: str, actor: Actor, now: dt.datetime) -> int:
    """Resolve these items where still open (the problem went away by itself),
    with the history row `exception_resolve_if_open` writes; returns how many."""
    ids = list(ids)
    note = (note or "").strip()
    if not note:
        raise ValueError("Say why the problem is gone.")
    if not ids:
        return 0
    open_statuses = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    with connection.cursor() as cursor:
        _stage_ids(cursor, ids)
        # The items this call closes: the ones still open, fixed before the update.
        cursor.execute(
            f"DELETE FROM {ID_STAGE} WHERE id NOT IN (SELECT id FROM {ITEMS} WHERE status IN ({open_statuses}))"
        )
        staged = f"(SELECT id FROM {ID_STAGE})"
        cursor.execute(
            f"""UPDATE {ITEMS} SET status = %s, resolution_note = %s, resolved_at = %s, updated_at = %s
            WHERE id IN {staged}""",
            [Status.RESOLVED, note, _when(now), _when(now)],
        )
        resolved = cursor.rowcount
        cursor.execute(
            _history_insert(f"{ITEMS} e WHERE e.id IN {staged}", "%s"),
            [_when(now), f"Resolved: {note}", "~", *_history_params(now, "~", actor)[2:]],
        )
        cursor.execute(f"DROP TABLE {ID_STAGE}")
    return resolved


def clashes(exc: IntegrityError) -> bool:
    """The error is another open item with the same dedupe key."""
    text = str(exc)
    return "exception_one_open_per_dedupe_key" in text or f"{ITEMS}.dedupe_key" in text


__all__ = ["clashes", "count_again_many", "open_many", "resolve_many"]
