"""The matching engine: set-based SQL over a run's two sides.

A run copies both sides into temporary tables private to its connection
(`recon_side`, one row per record; `recon_token`, every reference a record is
known by, normalised), then tries the reconciliation's rules in rank order.
Each rule is a few statements over the records no earlier rule took:

1. candidates — pairs that agree on what the rule compares (a shared reference,
   or the same customer and currency within the date window), with their
   amount difference and day gap;
2. choice — for 1:1, an automatic rule takes only pairs that are each other's
   only candidate (ambiguity is never matched automatically); a suggesting
   rule takes pairs that are each other's best (smallest difference, then
   gap). For 1:N and N:1, the parts that have a single candidate whole are
   summed per whole and taken when the sum is within tolerance;
3. membership — each chosen record is written once to `recon_member` (its
   primary key makes double matching impossible) with a group number.

Nothing loops over pairs in Python; hash joins and window functions do the
work, so a million records a side take seconds. The same statements run on
PostgreSQL and SQLite (see `reconciliation.sql`).
"""

# Statements are put together from this package's own constant fragments (table and column
# names, vendor spellings); every value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from reconciliation import sql
from reconciliation.sources import LEFT, RIGHT, SideSource

# Half the stored precision: sums SQLite computes in binary floating point
# still compare equal when they are equal to the cent.
EPSILON = Decimal("0.00005")

# A decimal parameter: SQLite would otherwise compare the text Django sends it as.
NUMBER = "CAST(%s AS NUMERIC)"

AUTO = "matched"
SUGGEST = "suggested"


@dataclass(frozen=True)
class RuleSpec:
    id: int | None
    method: str  # exact_reference | amount_customer_date
    cardinality: str  # 1:1 | 1:N | N:1
    outcome: str  # matched | suggested
    amount_tolerance: Decimal = Decimal(0)
    tolerance_percent: Decimal = Decimal(0)
    date_window_days: int = 0
    compare_tax: bool = False
    compare_status: bool = False

    @classmethod
    def from_rule(cls, rule) -> RuleSpec:
        return cls(
            id=rule.pk,
            method=rule.method,
            cardinality=rule.cardinality,
            outcome=AUTO if rule.action == "auto" else SUGGEST,
            amount_tolerance=rule.amount_tolerance,
            tolerance_percent=rule.tolerance_percent,
            date_window_days=rule.date_window_days,
            compare_tax=rule.compare_tax,
            compare_status=rule.compare_status,
        )


def _columns() -> dict[str, str]:
    row_id = "row_id BIGSERIAL" if sql.is_postgres() else "row_id INTEGER PRIMARY KEY"
    return {
        "recon_side": f"""{row_id}, side SMALLINT NOT NULL, source_key VARCHAR(255) NOT NULL,
            source_id BIGINT, reference VARCHAR(255) NOT NULL, customer_key VARCHAR(100) NOT NULL,
            label VARCHAR(255) NOT NULL, record_date DATE, amount NUMERIC(20, 4) NOT NULL,
            tax_amount NUMERIC(20, 4) NOT NULL, currency VARCHAR(3) NOT NULL, status VARCHAR(32) NOT NULL""",
        "recon_token": "row_id BIGINT NOT NULL, side SMALLINT NOT NULL, token VARCHAR(255) NOT NULL",
        "recon_member": """row_id BIGINT PRIMARY KEY, group_no INTEGER NOT NULL, rule_id INTEGER,
            outcome VARCHAR(10) NOT NULL, decided VARCHAR(10) NOT NULL DEFAULT ''""",
        "recon_cand": "l_id BIGINT NOT NULL, r_id BIGINT NOT NULL, diff NUMERIC(20, 4) NOT NULL, gap INTEGER NOT NULL",
        "recon_pick": "l_id BIGINT NOT NULL, r_id BIGINT NOT NULL, group_no INTEGER NOT NULL",
        "recon_rejected": "left_key VARCHAR(255) NOT NULL, right_key VARCHAR(255) NOT NULL",
        "recon_confirmed": "left_key VARCHAR(255) NOT NULL, right_key VARCHAR(255) NOT NULL",
    }


class Engine:
    """One run's matching, on one database cursor inside one transaction."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.groups = 0

    def run(self, statement: str, params: Iterable = ()) -> None:
        self.cursor.execute(statement, list(params))

    # -- loading -----------------------------------------------------------------

    def prepare(self) -> None:
        for name, columns in _columns().items():
            for statement in sql.temp_table(name, columns):
                self.run(statement)

    def load(self, source: SideSource) -> None:
        self.run(source.rows.sql, source.rows.params)

    def load_tokens(self, sources: Iterable[SideSource]) -> None:
        """Each record's own reference, then the extra references its source knows."""
        self.run(
            f"""INSERT INTO recon_token (row_id, side, token)
            SELECT row_id, side, {sql.normalised("reference")} FROM recon_side WHERE reference <> ''"""
        )
        for source in sources:
            for statement in source.tokens:
                self.run(statement.sql, statement.params)
        self.run("DELETE FROM recon_token WHERE token = ''")
        if sql.is_postgres():
            for name in ("recon_side", "recon_token"):
                for statement in sql.analyze(name):
                    self.run(statement)

    def load_rejections(self, pairs: Iterable[tuple[str, str]]) -> None:
        pairs = list(pairs)
        if pairs:
            self.cursor.executemany("INSERT INTO recon_rejected (left_key, right_key) VALUES (%s, %s)", pairs)

    def apply_confirmed(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Pairs analysts confirmed are matched before any rule, grouped by the
        records they share (a payment confirmed against three invoices is one group)."""
        pairs = list(pairs)
        if not pairs:
            return 0
        self.cursor.executemany("INSERT INTO recon_confirmed (left_key, right_key) VALUES (%s, %s)", pairs)
        self.cursor.execute(
            """SELECT l.row_id, r.row_id FROM recon_confirmed d
            JOIN recon_side l ON l.side = 0 AND l.source_key = d.left_key
            JOIN recon_side r ON r.side = 1 AND r.source_key = d.right_key"""
        )
        found = self.cursor.fetchall()
        members = _connected_groups(found, start=self.groups)
        if members:
            self.cursor.executemany(
                "INSERT INTO recon_member (row_id, group_no, rule_id, outcome, decided) VALUES (%s, %s, NULL, %s, %s)",
                [(row_id, group_no, AUTO, "confirmed") for row_id, group_no in members.items()],
            )
            self.groups = max(members.values())
        return len(set(members.values()))

    # -- rules -------------------------------------------------------------------

    def apply(self, rule: RuleSpec) -> int:
        """Apply one rule to the records still open; returns the groups it made."""
        self.run("DELETE FROM recon_cand")
        self.run("DELETE FROM recon_pick")
        if rule.cardinality == "1:1":
            self._candidates(rule, whole=None)
            self._pick_one_to_one(rule)
        else:
            whole = "l" if rule.cardinality == "1:N" else "r"
            self._candidates(rule, whole=whole)
            self._pick_split(rule, whole=whole)
        return self._commit_picks(rule)

    def _tolerance(self, left: str, right: str, rule: RuleSpec) -> tuple[str, list]:
        larger = sql.greatest(f"ABS({left})", f"ABS({right})")
        bound = sql.greatest(NUMBER, f"{NUMBER} * {larger} / 100")
        return f"ABS({left} - {right}) <= {bound} + {NUMBER}", [
            rule.amount_tolerance,
            rule.tolerance_percent,
            EPSILON,
        ]

    def _candidates(self, rule: RuleSpec, *, whole: str | None) -> None:
        conditions = [
            "l.currency = r.currency",
            "NOT EXISTS (SELECT 1 FROM recon_member m WHERE m.row_id = l.row_id)",
            "NOT EXISTS (SELECT 1 FROM recon_member m WHERE m.row_id = r.row_id)",
            "NOT EXISTS (SELECT 1 FROM recon_rejected x WHERE x.left_key = l.source_key AND x.right_key = r.source_key)",
        ]
        params: list = []
        if whole is None:
            condition, values = self._tolerance("l.amount", "r.amount", rule)
            conditions.append(condition)
            params += values
            if rule.compare_tax:
                condition, values = self._tolerance("l.tax_amount", "r.tax_amount", rule)
                conditions.append(condition)
                params += values
        else:
            # A part is never larger than its whole (beyond the tolerance).
            part = "r" if whole == "l" else "l"
            conditions.append(f"ABS({part}.amount) <= ABS({whole}.amount) + {NUMBER} + {NUMBER}")
            params += [rule.amount_tolerance, EPSILON]
        if rule.compare_status:
            conditions.append("l.status = r.status")
        gap = sql.day_gap("l.record_date", "r.record_date")
        if rule.method == "amount_customer_date" or rule.date_window_days:
            conditions.append(f"{gap} <= %s")
            params.append(rule.date_window_days)

        if rule.method == "exact_reference":
            source = """(SELECT DISTINCT lt.row_id AS l_id, rt.row_id AS r_id
                FROM recon_token lt JOIN recon_token rt ON rt.token = lt.token AND rt.side = 1
                WHERE lt.side = 0) t
                JOIN recon_side l ON l.row_id = t.l_id
                JOIN recon_side r ON r.row_id = t.r_id"""
        else:
            source = """recon_side l JOIN recon_side r
                ON r.side = 1 AND r.customer_key = l.customer_key AND r.currency = l.currency"""
            conditions = ["l.side = 0", "l.customer_key <> ''", *conditions]
        self.run(
            f"""INSERT INTO recon_cand (l_id, r_id, diff, gap)
            SELECT l.row_id, r.row_id, ABS(l.amount - r.amount), COALESCE({gap}, 0)
            FROM {source}
            WHERE {" AND ".join(conditions)}""",
            params,
        )

    def _pick_one_to_one(self, rule: RuleSpec) -> None:
        # Automatic: each other's only candidate. Suggested: each other's best.
        keep = "nl = 1 AND nr = 1" if rule.outcome == AUTO else "rl = 1 AND rr = 1"
        self.run(
            f"""INSERT INTO recon_pick (l_id, r_id, group_no)
            SELECT l_id, r_id, %s + ROW_NUMBER() OVER (ORDER BY l_id) FROM (
                SELECT l_id, r_id,
                    COUNT(*) OVER (PARTITION BY l_id) AS nl,
                    COUNT(*) OVER (PARTITION BY r_id) AS nr,
                    ROW_NUMBER() OVER (PARTITION BY l_id ORDER BY diff, gap, r_id) AS rl,
                    ROW_NUMBER() OVER (PARTITION BY r_id ORDER BY diff, gap, l_id) AS rr
                FROM recon_cand
            ) ranked WHERE {keep}""",
            [self.groups],
        )

    def _pick_split(self, rule: RuleSpec, *, whole: str) -> None:
        """One whole, several parts: parts with a single candidate whole, summed."""
        whole_id, part_id = ("l_id", "r_id") if whole == "l" else ("r_id", "l_id")
        tolerance, params = self._tolerance("w.amount", "sums.total", rule)
        tax = ""
        if rule.compare_tax:
            condition, values = self._tolerance("w.tax_amount", "sums.tax_total", rule)
            tax = f" AND {condition}"
            params += values
        self.run(
            f"""INSERT INTO recon_pick (l_id, r_id, group_no)
            SELECT c.l_id, c.r_id, %s + g.n
            FROM recon_cand c
            JOIN (
                SELECT sums.whole_id, ROW_NUMBER() OVER (ORDER BY sums.whole_id) AS n FROM (
                    SELECT s.whole_id, SUM(p.amount) AS total, SUM(p.tax_amount) AS tax_total
                    FROM (
                        SELECT {whole_id} AS whole_id, {part_id} AS part_id,
                            COUNT(*) OVER (PARTITION BY {part_id}) AS wholes
                        FROM recon_cand
                    ) s JOIN recon_side p ON p.row_id = s.part_id
                    WHERE s.wholes = 1
                    GROUP BY s.whole_id HAVING COUNT(*) >= 2
                ) sums JOIN recon_side w ON w.row_id = sums.whole_id
                WHERE {tolerance}{tax}
            ) g ON g.whole_id = c.{whole_id}
            WHERE NOT EXISTS (
                SELECT 1 FROM recon_cand o WHERE o.{part_id} = c.{part_id} AND o.{whole_id} <> c.{whole_id}
            )""",
            [self.groups, *params],
        )

    def _commit_picks(self, rule: RuleSpec) -> int:
        # A record is in at most one pick row as a whole; parts appear once each.
        for column in ("l_id", "r_id"):
            self.run(
                f"""INSERT INTO recon_member (row_id, group_no, rule_id, outcome)
                SELECT {column}, MIN(group_no), %s, %s FROM recon_pick GROUP BY {column}""",
                [rule.id, rule.outcome],
            )
        self.cursor.execute("SELECT COUNT(DISTINCT group_no), MAX(group_no) FROM recon_pick")
        made, top = self.cursor.fetchone()
        if top:
            self.groups = int(top)
        return int(made or 0)

    # -- results -----------------------------------------------------------------

    def write_results(self, run_id: int) -> None:
        """Every record of both sides with its outcome, and the totals, into the run's tables."""
        side = f"CASE WHEN s.side = {LEFT} THEN 'left' ELSE 'right' END"
        self.run(
            f"""INSERT INTO reconciliation_runitem (run_id, side, source_key, source_id, reference,
                customer_key, label, record_date, amount, tax_amount, currency, status, outcome,
                group_no, rule_id, decided)
            SELECT %s, {side}, s.source_key, s.source_id, s.reference, s.customer_key, s.label,
                s.record_date, s.amount, s.tax_amount, s.currency, s.status,
                COALESCE(m.outcome, 'unmatched'), m.group_no, m.rule_id, COALESCE(m.decided, '')
            FROM recon_side s LEFT JOIN recon_member m ON m.row_id = s.row_id""",
            [run_id],
        )
        self.run(
            f"""INSERT INTO reconciliation_runtotal (run_id, side, currency, outcome, count, amount)
            SELECT %s, {side}, s.currency, COALESCE(m.outcome, 'unmatched'), COUNT(*), SUM(s.amount)
            FROM recon_side s LEFT JOIN recon_member m ON m.row_id = s.row_id
            GROUP BY s.side, s.currency, COALESCE(m.outcome, 'unmatched')""",
            [run_id],
        )

    def group_counts(self) -> dict[str, int]:
        """outcome → number of match groups."""
        self.cursor.execute("SELECT outcome, COUNT(DISTINCT group_no) FROM recon_member GROUP BY outcome")
        return {outcome: int(n) for outcome, n in self.cursor.fetchall()}

    def keys(self, outcome: str | None) -> list[tuple[str, str]]:
        """(side, source_key) of the records with this outcome (None: unmatched)."""
        if outcome is None:
            self.cursor.execute(
                """SELECT s.side, s.source_key FROM recon_side s
                WHERE NOT EXISTS (SELECT 1 FROM recon_member m WHERE m.row_id = s.row_id)"""
            )
        else:
            self.cursor.execute(
                """SELECT s.side, s.source_key FROM recon_side s
                JOIN recon_member m ON m.row_id = s.row_id WHERE m.outcome = %s""",
                [outcome],
            )
        return [("left" if side == LEFT else "right", key) for side, key in self.cursor.fetchall()]

    def near_misses(self) -> dict[tuple[str, str], dict]:
        """For each unmatched record, an unmatched record of the other side that
        shares a reference with it: what the analyst compares the break with."""
        for statement in sql.temp_table(
            "recon_open_token", "row_id BIGINT NOT NULL, side SMALLINT NOT NULL, token VARCHAR(255) NOT NULL"
        ):
            self.run(statement)
        self.run(
            """INSERT INTO recon_open_token (row_id, side, token)
            SELECT t.row_id, t.side, t.token FROM recon_token t
            WHERE NOT EXISTS (SELECT 1 FROM recon_member m WHERE m.row_id = t.row_id)"""
        )
        self.cursor.execute(
            """SELECT a.side, a.source_key, b.source_key, b.reference, b.amount, b.tax_amount, b.currency, b.status
            FROM recon_open_token ta
            JOIN recon_open_token tb ON tb.token = ta.token AND tb.side <> ta.side
            JOIN recon_side a ON a.row_id = ta.row_id
            JOIN recon_side b ON b.row_id = tb.row_id
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
        self.run("DROP TABLE IF EXISTS recon_open_token")
        return found

    def drop(self) -> None:
        for name in _columns():
            self.run(f"DROP TABLE IF EXISTS {name}")


def _connected_groups(pairs: list[tuple[int, int]], *, start: int) -> dict[int, int]:
    """row id → group number, records linked by any confirmed pair sharing a group."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for left, right in pairs:
        parent[find(left)] = find(right)
    roots: dict[int, int] = {}
    members = {}
    for row in sorted(parent):
        root = find(row)
        if root not in roots:
            roots[root] = start + len(roots) + 1
        members[row] = roots[root]
    return members


__all__ = ["AUTO", "LEFT", "RIGHT", "SUGGEST", "Engine", "RuleSpec"]
