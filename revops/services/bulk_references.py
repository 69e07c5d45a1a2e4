"""Foreign keys of rows the bulk path copies in, checked once per statement.

PostgreSQL checks a foreign key with one trigger call per row, queued until
commit (Django's constraints are deferred): an index probe and a row lock each,
some ten a record, and a sixth of a bulk load's time went into them. A COPY
whose table has such keys runs with the row triggers off (`session_replication_role
= replica`, for that statement only) and is followed by one query that locks the
distinct rows referenced, as the triggers would (`FOR KEY SHARE`, held until the
transaction ends, so none of them can be deleted before the rows referring to
them commit), and fails with the same IntegrityError when one is missing. The
constraints themselves stay: every other write is checked by them as before.

Only for a role allowed to set `session_replication_role` (a superuser, or
`GRANT SET ON PARAMETER session_replication_role` on PostgreSQL 15+); otherwise
the triggers run as usual. The bulk tables have no triggers other than their
foreign keys' (the history is written by the application, not by triggers).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import IntegrityError, connection, models

from revops.services.bulk_params import array_param, array_type_of

_KEYS: dict[tuple[str, tuple[str, ...]], list[tuple[int, models.ForeignKey, str]]] = {}
_ALLOWED: dict[int, bool] = {}  # id of the DB-API connection → may set the role


def foreign_keys(
    model: type[models.Model], names: tuple[str, ...]
) -> list[tuple[int, models.ForeignKey, str]]:
    """(position in `names`, field, array type) of each constrained foreign key
    among the columns written; [] when one has a type `array_param` cannot send
    (then the triggers check them all)."""
    key = (model._meta.db_table, names)
    keys = _KEYS.get(key)
    if keys is None:
        keys = []
        for i, name in enumerate(names):
            field = model._meta.get_field(name)
            if isinstance(field, models.ForeignKey) and field.db_constraint:
                array_type = array_type_of(field)
                if array_type is None:
                    keys = []
                    break
                keys.append((i, field, array_type))
        _KEYS[key] = keys
    return keys


def triggers_skippable(cursor) -> bool:
    """Whether this connection's role may turn row triggers off."""
    raw = connection.connection
    allowed = _ALLOWED.get(id(raw))
    if allowed is None:
        cursor.execute(
            "SELECT CASE WHEN current_setting('server_version_num')::int >= 150000"
            " THEN has_parameter_privilege('session_replication_role', 'SET')"
            " ELSE current_setting('is_superuser') = 'on' END"
        )
        allowed = _ALLOWED[id(raw)] = bool(cursor.fetchone()[0])
    return allowed


def collecting(tuples: Iterable[tuple], keys: list, seen: list[set]) -> Iterator[tuple]:
    """`tuples` as they are, noting each foreign key's non-null values in `seen`."""
    pairs = [(i, values) for (i, _field, _type), values in zip(keys, seen, strict=True)]
    for row in tuples:
        for i, values in pairs:
            values.add(row[i])
        yield row


def triggers_off(cursor) -> None:
    cursor.execute("SET LOCAL session_replication_role = replica")


def check_and_triggers_on(cursor, model: type[models.Model], keys: list, seen: list[set]) -> None:
    """Triggers back on, and each distinct row referenced locked as the
    foreign-key triggers lock it; IntegrityError when one is missing."""
    parts, params, wanted = [], [], []
    for (_i, field, array_type), values in zip(keys, seen, strict=True):
        values.discard(None)
        if not values:
            continue
        target = field.target_field
        table = connection.ops.quote_name(target.model._meta.db_table)
        column = connection.ops.quote_name(target.column)
        # Names from the model's metadata, quoted; the values go as a parameter.
        parts.append(
            f"(SELECT count(*) FROM (SELECT 1 FROM ONLY {table} WHERE {column}"  # noqa: S608
            f" = ANY(CAST(%s AS {array_type})) FOR KEY SHARE) AS found)"
        )
        params.append(array_param(list(values)))
        wanted.append((field, len(values)))
    cursor.execute(
        "SELECT " + ", ".join(["set_config('session_replication_role', 'origin', true)", *parts]), params
    )
    found = cursor.fetchone()[1:]
    for (field, count), present in zip(wanted, found, strict=True):
        if present != count:
            raise IntegrityError(
                f'insert or update on table "{model._meta.db_table}" violates foreign key constraint'
                f' on "{field.column}": {count - present} of the {count} rows it refers to'
                f' are not present in table "{field.target_field.model._meta.db_table}"'
            )
