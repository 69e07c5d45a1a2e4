"""What a run writes and reports once its rules are applied: the report lines
and totals, which open breaks it matched, and near misses for the unmatched.

`Results` is a part of `reconciliation.engine.Engine`, in a file of its own: it
reads the engine's temporary tables (`recon_side`, the pool, the chosen pairs
in `recon_line` and `recon_suggestion`) through the engine's cursor and
helpers (`run`, `value`, `_analyze`, `open_records`, `groups`).
"""

# Statements are put together from this package's own constant fragments (table and column
# names); every value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal

from reconciliation import sql
from reconciliation.sources import LEFT, RIGHT, SIDE_COLUMNS, SIDE_NAMES

AUTO = "matched"
SUGGEST = "suggested"

# A side's values as a report line stores them (left_… or right_… columns, in this order): a
# record's columns but its side and currency (a line has one currency for both).
SIDE_VALUES = tuple(name for name in SIDE_NAMES if name not in ("side", "currency"))
LINE_FIELDS = ("key", "id", "reference", "customer", "date", "amount", "tax", "status")
LINE_COLUMNS = ", ".join(f"{side}_{field}" for side in ("left", "right") for field in LINE_FIELDS)
BLANK_SIDE = ("''", "NULL", "''", "''", "NULL", "NULL", "NULL", "''")
LINE_INSERT = f"""INSERT INTO reconciliation_runline (run_id, outcome, group_no, rule_id, decided, currency,
    {LINE_COLUMNS})"""


def chosen_table(outcome: str) -> str:
    """The table of the pairs chosen with this outcome: suggestions, a few
    thousand, apart from the million matches."""
    return "recon_line" if outcome == AUTO else "recon_suggestion"


class Results:
    """The engine's results, once its rules are applied (see the module's docstring)."""

    def write_results(self, run_id: int) -> dict[str, list[int]]:
        """The run's unmatched and suggested report lines, and its totals, into
        the run's tables; returns each outcome's [first, last] line id (the
        matched lines, a million where these are thousands, are
        `write_matched`'s). Each outcome is written by its own statement, so its
        lines are one range of ids."""
        # How many lines each outcome has, so that the matched million is joined by hashing
        # and the few suggestions through the key.
        self._analyze("recon_line")
        self._analyze("recon_suggestion")
        written = {
            "unmatched": self._write_lines(
                f"""{LINE_INSERT} SELECT %s, 'unmatched', NULL, NULL, '', s.currency, {_unmatched_sides("s")}
                FROM {self.open_records} s""",
                run_id,
            ),
            SUGGEST: self._write_lines(self._pairs_lines(SUGGEST), run_id),
        }
        self._write_totals(run_id)
        return {outcome: ids for outcome, ids in written.items() if ids}

    def write_matched(self, run_id: int) -> list[int] | None:
        """The matched pairs' report lines; their [first, last] line id."""
        return self._write_lines(self._pairs_lines(AUTO), run_id)

    def record_ranges(self, run_id: int, ranges: dict[str, list[int]]) -> None:
        """The run's line ranges, written in the engine's transaction: should the
        run's own transaction fail after the engine's committed (see
        `reconciliation.engine_session`), its lines are found by them."""
        self.run(
            f"UPDATE reconciliation_run SET line_ranges = {sql.json_parameter()} WHERE id = %s",
            [json.dumps(ranges), run_id],
        )

    def _write_lines(self, statement: str, run_id: int) -> list[int] | None:
        """Run a statement writing lines for the run; the [first, last] id of
        those it wrote, None when it wrote none."""
        before = self.value("SELECT COALESCE(MAX(id), 0) FROM reconciliation_runline")
        self.run(statement, [run_id])
        after = self.value("SELECT COALESCE(MAX(id), 0) FROM reconciliation_runline")
        return [int(before) + 1, int(after)] if after > before else None

    @staticmethod
    def _pairs_lines(outcome: str) -> str:
        left = ", ".join(f"l.{column}" for column in SIDE_VALUES)
        right = ", ".join(f"r.{column}" for column in SIDE_VALUES)
        return f"""{LINE_INSERT} SELECT %s, x.outcome, x.group_no, x.rule_id, x.decided, l.currency, {left}, {right}
            FROM {chosen_table(outcome)} x
            JOIN recon_side l ON l.row_id = x.l_id AND l.side = {LEFT}
            JOIN recon_side r ON r.row_id = x.r_id AND r.side = {RIGHT}"""

    def unmatched_records(self) -> list[dict]:
        """The records no rule took, in the order of their lines: each a dict of
        its columns, its side named ("left" or "right")."""
        self.cursor.execute(f"SELECT {SIDE_COLUMNS} FROM {self.open_records} s ORDER BY s.side, s.row_id")
        return [_record_values(dict(zip(SIDE_NAMES, row, strict=True))) for row in self.cursor.fetchall()]

    def _totals(self, records: str) -> dict[tuple[int, str], tuple[int, Decimal]]:
        """(side, currency) → (count, amount) of `records` (a FROM clause naming them `s`)."""
        self.cursor.execute(
            f"SELECT s.side, s.currency, COUNT(*), SUM(s.amount) FROM {records} GROUP BY s.side, s.currency"
        )
        return {(side, currency): (int(n), Decimal(str(amount))) for side, currency, n, amount in self.cursor}

    def _write_totals(self, run_id: int) -> None:
        """Totals per side, currency and outcome: all records and the unmatched
        and suggested ones are summed; matched are the rest (no pass over the
        matched lines)."""
        every = self._totals("recon_side s")
        unmatched = self._totals(f"{self.open_records} s")
        # The few suggested records, each once, looked up through the row key one by one. As a
        # join, PostgreSQL hashes the two million records instead; OFFSET 0 keeps its lookup a
        # subquery run per record. (SQLite looks them up by itself, and has no LATERAL.)
        lookup = (
            """CROSS JOIN LATERAL (
                SELECT o.side, o.currency, o.amount FROM recon_side o WHERE o.row_id = x.row_id OFFSET 0
            ) s"""
            if sql.is_postgres()
            else "JOIN recon_side s ON s.row_id = x.row_id"
        )
        suggested = self._totals(
            f"(SELECT l_id AS row_id FROM recon_suggestion UNION SELECT r_id FROM recon_suggestion) x {lookup}"
        )
        rows = []
        for key, (count, amount) in every.items():
            parts = {
                "unmatched": unmatched.get(key, (0, Decimal(0))),
                SUGGEST: suggested.get(key, (0, Decimal(0))),
            }
            parts[AUTO] = (
                count - parts["unmatched"][0] - parts[SUGGEST][0],
                amount - parts["unmatched"][1] - parts[SUGGEST][1],
            )
            side = "left" if key[0] == LEFT else "right"
            rows += [(run_id, side, key[1], outcome, n, total) for outcome, (n, total) in parts.items() if n]
        if rows:
            self.cursor.executemany(
                """INSERT INTO reconciliation_runtotal (run_id, side, currency, outcome, count, amount)
                VALUES (%s, %s, %s, %s, %s, %s)""",
                rows,
            )

    def chosen_pairs(self) -> list[tuple[str, str, str]]:
        """(left source key, right source key, outcome) of every pair chosen."""
        self.cursor.execute(
            """SELECT l.source_key, r.source_key, x.outcome
            FROM (SELECT l_id, r_id, outcome FROM recon_line UNION ALL SELECT l_id, r_id, outcome FROM recon_suggestion) x
            JOIN recon_side l ON l.row_id = x.l_id JOIN recon_side r ON r.row_id = x.r_id"""
        )
        return self.cursor.fetchall()

    def group_counts(self) -> dict[str, int]:
        """outcome → number of match groups."""
        return dict(self.groups)

    def matched_among(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (side, source key) records this run matched (not merely suggested)."""
        keys = [(LEFT if side == "left" else RIGHT, key) for side, key in keys]
        if not keys:
            return set()
        self.run(sql.emptied("recon_probe"))
        self.cursor.executemany("INSERT INTO recon_probe (side, source_key) VALUES (%s, %s)", keys)
        self._analyze("recon_probe")
        self.cursor.execute(
            f"""SELECT p.side, p.source_key FROM recon_probe p
            JOIN recon_side s ON s.side = p.side AND s.source_key = p.source_key
            WHERE NOT EXISTS (SELECT 1 FROM {self.open_records} o WHERE o.row_id = s.row_id)
              AND NOT EXISTS (SELECT 1 FROM recon_suggestion x WHERE x.l_id = s.row_id)
              AND NOT EXISTS (SELECT 1 FROM recon_suggestion x WHERE x.r_id = s.row_id)"""
        )
        return {("left" if side == LEFT else "right", key) for side, key in self.cursor.fetchall()}

    def near_misses(self) -> dict[tuple[str, str], dict]:
        """For each unmatched record, an unmatched record of the other side that
        shares a reference with it: what the analyst compares the break with."""
        self.run(
            f"""INSERT INTO recon_open (row_id, side, token)
            SELECT s.row_id, s.side, s.ref FROM {self.open_records} s WHERE s.ref <> ''"""
        )
        self.run(
            f"""INSERT INTO recon_open (row_id, side, token)
            SELECT t.row_id, t.side, t.token FROM recon_token t
            WHERE EXISTS (SELECT 1 FROM {self.open_records} o WHERE o.row_id = t.row_id)"""
        )
        self.cursor.execute(
            f"""SELECT a.side, a.source_key, b.source_key, b.reference, b.amount, b.tax_amount, b.currency, b.status
            FROM recon_open ta
            JOIN recon_open tb ON tb.token = ta.token AND tb.side <> ta.side
            JOIN {self.open_records} a ON a.row_id = ta.row_id
            JOIN {self.open_records} b ON b.row_id = tb.row_id
            ORDER BY a.row_id, b.row_id"""
        )
        found: dict[tuple[str, str], dict] = {}
        for side, key, other_key, reference, amount, tax, currency, status in self.cursor.fetchall():
            found.setdefault(
                ("left" if side == LEFT else "right", key),
                {
                    "source_key": other_key,
                    "reference": reference,
                    "amount": Decimal(str(amount)),
                    "tax_amount": Decimal(str(tax)),
                    "currency": currency,
                    "status": status,
                },
            )
        return found


def _record_values(row: dict) -> dict:
    """A record read straight from the engine's tables, in the types the
    canonical models give (SQLite hands back numbers and dates as it stored them)."""
    row["side"] = "left" if row["side"] == LEFT else "right"
    for name in ("amount", "tax_amount"):
        if row[name] is not None and not isinstance(row[name], Decimal):
            row[name] = Decimal(str(row[name]))
    if isinstance(row["record_date"], str):
        row["record_date"] = dt.date.fromisoformat(row["record_date"])
    return row


def _unmatched_sides(alias: str) -> str:
    """An unmatched record's values on its own side of a line, the other side blank."""
    own = [f"{alias}.{column}" for column in SIDE_VALUES]
    pairs = list(zip(own, BLANK_SIDE, strict=True))
    left = [f"CASE WHEN {alias}.side = {LEFT} THEN {value} ELSE {blank} END" for value, blank in pairs]
    right = [f"CASE WHEN {alias}.side = {RIGHT} THEN {value} ELSE {blank} END" for value, blank in pairs]
    return ", ".join(left + right)
