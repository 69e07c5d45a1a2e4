"""Set-based row writing for the bulk services: many rows of one table in one
statement, with their history rows and business events.

On PostgreSQL, ids come from the table's own sequence (one `nextval` query per
batch) and rows go in with `COPY`; elsewhere (the embedded SQLite) through
`bulk_create`. History rows get the attribution a single save gets from
`stamp` and the `pre_create_historical_record` receiver, so an auditor cannot
tell a bulk-written change from a one-by-one one. Use these only for inserts
of new rows: they send no model signals (none are used on these models) and
skip `save()`.
"""

from __future__ import annotations

import gc
import json
import operator
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import psycopg
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from revops.actors import MANUAL_SYSTEM, Actor
from revops.models import BusinessEvent, Customer, ExternalRef, Invoice
from revops.models.base import UNATTRIBUTED, _attribute_history, stamp
from revops.services import bulk_references, event_listeners
from revops.services.bulk_params import array_param
from revops.validators import model_instance

# Seconds spent by phase since the last reset, for the ingest benchmark's
# breakdown: elapsed (TIMINGS) and this thread's CPU (CPU_TIMINGS; the rest of
# a phase's time is spent waiting, for the database or for a busy core). Cheap
# enough (four clock reads per batch and phase) to be always on. A phase's
# time excludes the phases timed inside it, so the phases add up.
TIMINGS: Counter[str] = Counter()
CPU_TIMINGS: Counter[str] = Counter()
STATEMENTS: Counter[str] = Counter()
_OPEN: list[list[float]] = []  # per open phase: [elapsed, CPU] taken by the phases inside it


@contextmanager
def timed(phase: str) -> Iterator[None]:
    started, cpu_started = time.perf_counter(), time.thread_time()
    _OPEN.append([0.0, 0.0])
    try:
        yield
    finally:
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
        inner = _OPEN.pop()
        TIMINGS[phase] += elapsed - inner[0]
        CPU_TIMINGS[phase] += cpu - inner[1]
        if _OPEN:
            _OPEN[-1][0] += elapsed
            _OPEN[-1][1] += cpu


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: a bulk write allocates many objects
    that live until it ends (reference counting still frees them), and each
    collection would walk them all again (measured: about 15 % of the bulk
    path's Python time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def phase_of(model: type[models.Model]) -> str:
    if getattr(model, "instance_type", None) is not None:  # a simple_history historical model
        return "history"
    if model is BusinessEvent:
        return "events"
    if model is ExternalRef:
        return "refs"
    if model._meta.app_label == "revops":
        return "canonical"
    return "raw store"


def lookup(queryset: models.QuerySet) -> list[tuple]:
    """The rows of a `values_list` query (plain column values, no converters),
    for the bulk path's batch lookups. On PostgreSQL the parameters are bound
    by the server, not written into the SQL: an `AnyOf` array of 500 values is
    then sent once in binary instead of as a literal the server parses and
    plans anew each time, and the statement, the same text every batch, is
    prepared after a few runs (measured: a 500-key lookup of the raw store
    went from about 10 to about 2 ms)."""
    if connection.vendor != "postgresql":
        return [row if isinstance(row, tuple) else (row,) for row in queryset]
    sql, params = queryset.query.sql_with_params()
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
        STATEMENTS["lookup"] += 1
        return cursor.fetchall()


class JsonText(str):
    """A value already serialised to JSON: written to a JSON column as it is."""


# -- inserting -----------------------------------------------------------------------------------

# Tables grow fast under a bulk load, faster than autovacuum analyzes them, and
# stale statistics can turn the next batch's lookups into scans of the whole
# table. A table the bulk path looks rows up in (`LOOKED_UP`) that this process
# has doubled since it was last analyzed (and grown by at least ANALYZE_AFTER
# rows) is analyzed again.
ANALYZE_AFTER = 5_000
LOOKED_UP: set[type[models.Model]] = {Customer, Invoice, ExternalRef}
_GROWTH: dict[str, list[float]] = {}  # table → [rows added since analyzed, rows then]
_SEQUENCES: dict[str, str] = {}
_COPY_SQL: dict[tuple[str, tuple[str, ...]], tuple[str, list]] = {}


def rows_insert(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, ids: Iterable[int] | bool = False
) -> None:
    """Insert `rows` (dicts of attname → Python value, all with the same keys in
    the same order). With `ids` (True, or an iterator over ids from
    `reserve_ids`), each row's primary key is set in its dict."""
    if not rows:
        return
    with timed(phase_of(model)):
        pk = model._meta.pk.attname
        if connection.vendor != "postgresql":
            objs = [model(**_python_values(row)) for row in rows]
            _insert_as_given(model, objs)
            if ids:
                for row, obj in zip(rows, objs, strict=True):
                    row[pk] = obj.pk
            return
        if ids:
            values = _next_ids(model, len(rows)) if ids is True else ids
            for row, value in zip(rows, values, strict=False):
                row[pk] = value
        _copy(model, tuple(rows[0]), (tuple(row.values()) for row in rows), len(rows))


def tuples_insert(
    model: type[models.Model], names: tuple[str, ...], tuples: Iterable[tuple], count: int
) -> None:
    """Insert `count` rows given as tuples of values for `names` (on PostgreSQL
    the tuples are made as the COPY streams: while the server indexes the first
    rows, the next ones are being built)."""
    with timed(phase_of(model)):
        if connection.vendor == "postgresql":
            _copy(model, names, tuples, count)
            return
        objs = [model(**_python_values(dict(zip(names, values, strict=True)))) for values in tuples]
        _insert_as_given(model, objs)


def _insert_as_given(model: type[models.Model], objs: list[models.Model]) -> None:
    """`bulk_create` without its `pre_save` (as a raw save): auto_now fields
    keep the times given, so the rows stored and the history rows made of
    them agree. Batched by the backend's parameter limit; ids set on the
    objects (SQLite returns them)."""
    manager = model._base_manager
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and getattr(objs[0], f.attname) is None)
    ]
    returning = [model._meta.pk] if connection.features.can_return_rows_from_bulk_insert else None
    size = max(1, connection.ops.bulk_batch_size(fields, objs))
    for start in range(0, len(objs), size):
        batch = objs[start : start + size]
        returned = manager._insert(batch, fields=fields, returning_fields=returning, raw=True)
        STATEMENTS["insert"] += 1
        for obj, values in zip(batch, returned or (), strict=False):
            setattr(obj, model._meta.pk.attname, values[0])
    for obj in objs:
        obj._state.adding = False


def _python_values(row: dict[str, Any]) -> dict[str, Any]:
    return {name: json.loads(v) if isinstance(v, JsonText) else v for name, v in row.items()}


def _sequence(model: type[models.Model]) -> str:
    table = model._meta.db_table
    if table not in _SEQUENCES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
            _SEQUENCES[table] = cursor.fetchone()[0]
    return _SEQUENCES[table]


def _next_ids(model: type[models.Model], count: int) -> list[int]:
    return reserve_ids({model: count})[model]


def reserve_ids(counts: dict[type[models.Model], int]) -> dict[type[models.Model], list[int]]:
    """Ids for rows about to be inserted, from each table's sequence, in one
    query (PostgreSQL; elsewhere {}: the inserts return them). Ids reserved but
    not used are gaps, as after a rollback."""
    wanted = {model: count for model, count in counts.items() if count > 0}
    if connection.vendor != "postgresql" or not wanted:
        return {}
    parts, params = [], []
    for model, count in wanted.items():
        parts.append("ARRAY(SELECT nextval(%s) FROM generate_series(1, %s))")
        params += [_sequence(model), count]
    with timed("ids"), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        arrays = cursor.fetchone()
    STATEMENTS["nextval"] += 1
    return {model: sorted(values) for model, values in zip(wanted, arrays, strict=True)}


def _copy_sql(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, list]:
    key = (model._meta.db_table, names)
    plan = _COPY_SQL.get(key)
    if plan is None:
        quote = connection.ops.quote_name
        fields = [model._meta.get_field(name) for name in names]
        columns = ", ".join(quote(field.column) for field in fields)
        encoders = [
            (i, field.encoder) for i, field in enumerate(fields) if isinstance(field, models.JSONField)
        ]
        plan = _COPY_SQL[key] = (f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN", encoders)
    return plan


def _copy(model: type[models.Model], names: tuple[str, ...], tuples: Iterable[tuple], count: int) -> None:
    sql, encoders = _copy_sql(model, names)
    if encoders:
        tuples = (_encoded(values, encoders) for values in tuples)
    analyze = _analyze_sql(model, count)
    keys = bulk_references.foreign_keys(model, names)
    # The psycopg cursor's copy(), under Django's error translation (IntegrityError, DataError…).
    with connection.wrap_database_errors, connection.cursor() as cursor:
        checked = bool(keys) and bulk_references.triggers_skippable(cursor)
        if checked:
            seen = [set() for _ in keys]
            tuples = bulk_references.collecting(tuples, keys, seen)
            bulk_references.triggers_off(cursor)
        with cursor.cursor.copy(sql) as copy:
            write = copy.write_row
            for values in tuples:
                write(values)
        STATEMENTS["copy"] += 1
        if checked:
            bulk_references.check_and_triggers_on(cursor, model, keys, seen)
            STATEMENTS["references"] += 2
        if analyze:
            _run_analyze(cursor, analyze)


def _run_analyze(cursor, analyze: str) -> None:
    with timed("analyze"):
        cursor.execute(analyze)
    STATEMENTS["analyze"] += 1


def grown(model: type[models.Model], added: int) -> None:
    """Rows of `model` inserted otherwise than by `rows_insert` (e.g. by
    `server_insert`): ANALYZE it when they make its statistics stale."""
    analyze = _analyze_sql(model, added)
    if analyze:
        with connection.cursor() as cursor:
            _run_analyze(cursor, analyze)


def _encoded(values: tuple, encoders: list) -> list:
    values = list(values)
    for i, encoder in encoders:
        value = values[i]
        if value is not None and not isinstance(value, JsonText):
            values[i] = json.dumps(value, cls=encoder)
    return values


def _analyze_sql(model: type[models.Model], added: int) -> str | None:
    """`ANALYZE table` when this insert grows it enough to need fresh statistics."""
    if model not in LOOKED_UP:
        return None
    table = model._meta.db_table
    state = _GROWTH.get(table)
    if state is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            state = _GROWTH[table] = [0, max(cursor.fetchone()[0], 0)]
    state[0] += added
    if state[0] < max(ANALYZE_AFTER, state[1]):
        return None
    state[1] += state[0]
    state[0] = 0
    return f"ANALYZE {connection.ops.quote_name(table)}"


# -- history --------------------------------------------------------------------------------------


def attribution(actor: Actor, reason: str) -> dict[str, Any]:
    """The history columns a save stamped with (actor, reason) gets: the same
    `stamp` check and the same receiver fill them."""
    stamped = stamp(SimpleNamespace(), actor, reason)
    columns = SimpleNamespace(history_source=MANUAL_SYSTEM, history_actor=UNATTRIBUTED)
    _attribute_history(sender=None, instance=stamped, history_instance=columns, history_user=actor.user)
    return {
        "history_source": columns.history_source,
        "history_actor": columns.history_actor,
        "history_user_id": actor.user.pk if actor.user is not None else None,
        "history_change_reason": stamped._change_reason,
    }


def history_insert(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    history_type: str,
    actor: Actor,
    reason: str,
    when,
    differs: tuple[str, ...] = (),
) -> None:
    """One history row per row of `model`, as simple_history writes it for a
    save stamped with (actor, reason). The rows (dicts holding every tracked
    attname) were inserted into the model's table in this transaction, with
    their ids, and hold what the table holds except in the attnames `differs`
    lists (e.g. a draft's status, before the issue the table already shows).

    On PostgreSQL the server copies the history rows from the table
    (`_history_copy`) when each attname in `differs` has one value in all the
    rows, which it then takes from them; otherwise, and elsewhere, they are
    written from the rows."""
    if not rows:
        return
    common = {**attribution(actor, reason), "history_date": when, "history_type": history_type}
    if connection.vendor == "postgresql":
        overrides = _uniform(rows, differs)
        if overrides is not None:
            _history_copy(model, [row[model._meta.pk.attname] for row in rows], {**overrides, **common})
            return
    historical = model.history.model
    tracked = tuple(
        f.attname for f in historical._meta.concrete_fields if not f.attname.startswith("history_")
    )
    values = tuple(common.values())
    pick = operator.itemgetter(*tracked)
    tuples_insert(historical, tracked + tuple(common), (pick(row) + values for row in rows), len(rows))


def _uniform(rows: Sequence[dict[str, Any]], names: tuple[str, ...]) -> dict[str, Any] | None:
    """{attname: the value every row holds} for `names`, or None when a value varies."""
    found = {}
    for name in names:
        first = rows[0][name]
        if any(row[name] != first for row in rows):
            return None
        found[name] = first
    return found


_HISTORY_SQL: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}


def _history_sql(model: type[models.Model], constants: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """`INSERT INTO <history> (…) SELECT …` copying the rows of `model` whose
    ids are the one array parameter; the attnames in `constants` take a
    parameter each instead of the table's column (in the order returned)."""
    key = (model._meta.db_table, constants)
    plan = _HISTORY_SQL.get(key)
    if plan is None:
        quote = connection.ops.quote_name
        historical = model.history.model
        columns = {f.attname: f.column for f in model._meta.concrete_fields}
        targets, selected, order = [], [], []
        for f in historical._meta.concrete_fields:
            if f.primary_key:
                continue  # history_id: the history table's own identity
            targets.append(quote(f.column))
            if f.attname in constants:
                selected.append(f"CAST(%s AS {f.cast_db_type(connection)})")
                order.append(f.attname)
            else:
                selected.append(f"t.{quote(columns[f.attname])}")
        pk = quote(model._meta.pk.column)
        # Names from the models' metadata; every value is a parameter.
        sql = (
            f"INSERT INTO {quote(historical._meta.db_table)} ({', '.join(targets)}) "  # noqa: S608
            f"SELECT {', '.join(selected)} FROM {quote(model._meta.db_table)} t "
            f"WHERE t.{pk} = ANY(CAST(%s AS bigint[])) ORDER BY t.{pk}"
        )
        plan = _HISTORY_SQL[key] = (sql, tuple(order))
    return plan


def _history_copy(model: type[models.Model], ids: list[int], constants: dict[str, Any]) -> None:
    """History rows copied by the server from rows of `model` just written:
    no value goes through Python, and the server parses none (the rows were
    inserted in id order, so the history ids follow the same order as when
    the history rows are written from Python). The statement's text is the
    same every batch, so the server prepares it after a few runs."""
    with timed("history"):
        sql, order = _history_sql(model, tuple(sorted(constants)))
        params = [constants[name] for name in order] + [array_param(ids)]
        server_insert(sql, params, counter="history")


def server_insert(sql: str, params: list, *, counter: str = "server insert") -> None:
    """A set-based INSERT … SELECT (PostgreSQL) with its parameters bound by
    the server, as `lookup` binds them: an id array goes once, in binary, and
    the statement, the same text every batch, is prepared after a few runs."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
    STATEMENTS[counter] += 1


def model_rows(objs: Sequence[models.Model], *, exclude: tuple[str, ...] = ("id",)) -> list[dict[str, Any]]:
    """The concrete column values of unsaved instances, as insertable dicts."""
    if not objs:
        return []
    names = [f.attname for f in objs[0]._meta.concrete_fields if f.attname not in exclude]
    return [{name: obj.__dict__[name] for name in names} for obj in objs]


# -- business events ---------------------------------------------------------------------------------


def events_insert(
    *,
    type: str,
    subjects: Sequence[tuple[models.Model, dict[str, Any], Any]],
    actor: Actor,
    when,
    ids: Iterable[int] | bool = True,
) -> None:
    """Business events as `event_record` writes them, one per (subject, payload,
    correlation id), with their history rows (reason: the event type)."""
    if not subjects:
        return
    with timed("events"):
        content_type = ContentType.objects.get_for_model(subjects[0][0])
        rows = [
            {
                "type": type,
                "subject_type_id": content_type.pk,
                "subject_id": subject.pk,
                "subject_label": str(subject)[:200],
                "source": actor.system,
                "actor": actor.label,
                "occurred_at": when,
                "recorded_at": when,
                "correlation_id": correlation_id,
                # event_record stores json.loads(json.dumps(payload, cls=DjangoJSONEncoder)):
                # the same JSON, serialised once.
                "payload": JsonText(json.dumps(payload or {}, cls=DjangoJSONEncoder)),
            }
            for subject, payload, correlation_id in subjects
        ]
    rows_insert(BusinessEvent, rows, ids=ids)
    history_insert(BusinessEvent, rows, history_type="+", actor=actor, reason=type, when=when)
    with timed("listeners"):
        _notify(rows, [subject for subject, _, _ in subjects])


def _notify(rows: list[dict[str, Any]], subjects: Sequence[models.Model]) -> None:
    """Call the registered listeners with each event and its subject (all of
    one type; none when no listener wants that type), as `event_record` does (e.g. connectors makes the ERP posting of an issued
    invoice), once the events are written."""
    if not rows or not event_listeners.listening_to(rows[0]["type"]):
        return
    pairs = []
    for row, subject in zip(rows, subjects, strict=True):
        event = model_instance(BusinessEvent, {**row, "payload": json.loads(row["payload"])})
        event._state.adding = False
        pairs.append((event, subject))
    event_listeners.notify_many(pairs)
