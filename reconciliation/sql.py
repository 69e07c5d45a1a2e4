"""The few SQL spellings that differ between PostgreSQL and SQLite, so that the
matching engine's statements run unchanged on both."""

from __future__ import annotations

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if is_postgres() else f"MAX({a}, {b})"


def day_gap(a: str, b: str) -> str:
    """Whole days between two date columns, never negative."""
    if is_postgres():
        return f"ABS({a} - {b})"
    return f"CAST(ABS(julianday({a}) - julianday({b})) AS INTEGER)"


def as_text(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR(40))" if is_postgres() else f"CAST({expr} AS TEXT)"


def concat(*parts: str) -> str:
    return " || ".join(parts)


def normalised(expr: str) -> str:
    """A reference compared loosely: upper case, without spaces, dashes, slashes or dots."""
    if is_postgres():
        # One call instead of four nested REPLACEs: a third of the time it takes to load a
        # million records a side goes into this expression.
        return f"TRANSLATE(UPPER({expr}), ' -/.', '')"
    out = f"UPPER({expr})"
    for char in (" ", "-", "/", "."):
        out = f"REPLACE({out}, '{char}', '')"
    return out


def normalise_reference(text: str) -> str:
    """`normalised` in Python, for values that do not come from a table."""
    out = (text or "").upper()
    for char in (" ", "-", "/", "."):
        out = out.replace(char, "")
    return out


def emptied(table: str) -> str:
    """Empty a table of the run's: on PostgreSQL without visiting its rows (a
    rule's candidates can be a million)."""
    return f"TRUNCATE {table}" if is_postgres() else f"DELETE FROM {table}"  # noqa: S608 (a table of ours)


def json_parameter() -> str:
    """A JSON value given as text."""
    return "CAST(%s AS JSONB)" if is_postgres() else "%s"


def temp_table(name: str, columns: str) -> list[str]:
    """Statements that (re)create a temporary table private to this connection.
    On PostgreSQL it is dropped at commit, and never written to the WAL."""
    create = f"CREATE TEMPORARY TABLE {name} ({columns})"
    if is_postgres():
        create += " ON COMMIT DROP"
    return [f"DROP TABLE IF EXISTS {name}", create]


def analyze(name: str, columns: tuple[str, ...] = ()) -> list[str]:
    """Fresh planner statistics for a temporary table just filled (autovacuum never
    sees them), of these columns only when given."""
    if not is_postgres():
        return []
    return [f"ANALYZE {name} ({', '.join(columns)})" if columns else f"ANALYZE {name}"]
