"""The matching engine: set-based SQL over a run's two sides.

A run copies both sides into temporary tables private to its connection
(`recon_side`, one row per record with its reference normalised; `recon_token`,
any further references a record is known by, such as another system's id),
then tries the reconciliation's rules in rank order. Each rule is a few
statements over the records no earlier rule took:

1. candidates — pairs that agree on what the rule compares: a shared
   reference, or the same customer and currency within the date window; with
   their amount difference and day gap. An automatic 1:1 rule keeps them in a
   CTE of the statement that chooses (only their number per record decides),
   other rules in `recon_cand`;
2. choice (`recon_pick`) — for 1:1, an automatic rule takes only pairs that are
   each other's only candidate (ambiguity is never matched automatically); a
   suggesting rule takes pairs that are each other's best (smallest difference,
   then gap). For 1:N and N:1, parts with a single candidate whole are summed
   per whole and taken when the sum is within tolerance;
3. the chosen pairs go to `recon_line` (matched) or `recon_suggestion` under a
   group number (the row id of the group's first record, so numbering needs no
   sort), and leave the pool. The first rule to pick anything writes its choice
   straight there (nothing is there yet); later ones through `recon_pick`, whose
   rows also tell what leaves the pool. Suggestions, a few thousand, have a
   table of their own so that reading them never scans the million matches.

The first rule reads `recon_side` whole (nothing is taken yet); what it leaves
— a few percent — is copied to `recon_pool`, and later rules read only that,
each removing what it takes. So a rule after the first costs what is left, not
what the sides hold; and the records in the pool at the end are the unmatched.

Nothing loops over pairs in Python: hash joins, hash anti-joins and
aggregates and (for suggestions) window functions do the work. The same
statements run on PostgreSQL and SQLite (see `reconciliation.sql`). On
PostgreSQL the run raises its session's temporary buffers so the tables stay in
memory, and indexes `recon_side` by row id once loaded: a statement that needs
a few records out of millions (suggestions, other references, near misses)
looks them up instead of hashing a whole side.
"""

# Statements are put together from this package's own constant fragments (table and column
# names, vendor spellings); every value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import DatabaseError

from reconciliation import sql
from reconciliation.engine_results import AUTO, SUGGEST, Results, chosen_table
from reconciliation.rule_spec import RuleSpec
from reconciliation.sources import LEFT, RIGHT, SIDE_COLUMNS, SideSource

# Half the stored precision: sums SQLite computes in binary floating point
# still compare equal when they are equal to the cent.
EPSILON = Decimal("0.00005")
WORK_MEM = "256MB"
TEMP_BUFFERS = "1GB"

# A decimal parameter: SQLite would otherwise compare the text Django sends it as.
NUMBER = "CAST(%s AS NUMERIC)"
SIDE_TABLE_COLUMNS = (
    "row_id, side, source_key, source_id, reference, customer_key, record_date, amount, tax_amount, "
    "currency, status, ref"
)

# The columns of a side's records that statements join or filter on.
RECORD_KEYS = ("row_id", "side", "ref", "customer_key", "currency", "source_key")


def _tables() -> dict[str, str]:
    row_id = "row_id BIGSERIAL" if sql.is_postgres() else "row_id INTEGER PRIMARY KEY"
    pair = "l_id BIGINT NOT NULL, r_id BIGINT NOT NULL"
    keys = "left_key VARCHAR(255) NOT NULL, right_key VARCHAR(255) NOT NULL"
    chosen = f"{pair}, group_no BIGINT NOT NULL, rule_id BIGINT, outcome VARCHAR(10) NOT NULL, decided VARCHAR(10) NOT NULL"
    record = """side SMALLINT NOT NULL, source_key VARCHAR(255) NOT NULL,
            source_id BIGINT, reference VARCHAR(255) NOT NULL, customer_key VARCHAR(100) NOT NULL,
            record_date DATE, amount NUMERIC(20, 4) NOT NULL,
            tax_amount NUMERIC(20, 4) NOT NULL, currency VARCHAR(3) NOT NULL, status VARCHAR(32) NOT NULL,
            ref VARCHAR(255) NOT NULL"""
    return {
        "recon_side": f"{row_id}, {record}",
        "recon_pool": f"row_id BIGINT NOT NULL PRIMARY KEY, {record}",
        "recon_token": "row_id BIGINT NOT NULL, side SMALLINT NOT NULL, token VARCHAR(255) NOT NULL",
        "recon_cand": f"{pair}, diff NUMERIC(20, 4) NOT NULL, gap INTEGER NOT NULL",
        "recon_pick": chosen,
        "recon_line": chosen,
        "recon_suggestion": chosen,
        "recon_open": "row_id BIGINT NOT NULL, side SMALLINT NOT NULL, token VARCHAR(255) NOT NULL",
        "recon_probe": "side SMALLINT NOT NULL, source_key VARCHAR(255) NOT NULL",
        "recon_shared": pair,
        "recon_rejected": keys,
        "recon_confirmed": keys,
    }


class Engine(Results):
    """One run's matching, on one database cursor inside one transaction; what
    it writes and reports once the rules are applied is in `Results`."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.pooled = False
        self.rejections = False
        self.groups = {AUTO: 0, SUGGEST: 0}

    @property
    def open_records(self) -> str:
        """The table of records no rule has taken yet."""
        return "recon_pool" if self.pooled else "recon_side"

    def _take_picks(self, picks: str) -> None:
        """Remove the records just chosen (the pairs in `picks`) from the pool,
        making it on the first choice: nothing was chosen before, so `picks` is
        then the table of chosen pairs itself."""
        if not self.pooled:
            # Each side against its own column of the pairs: two hash anti-joins of one side each.
            self.run(
                f"""INSERT INTO recon_pool ({SIDE_TABLE_COLUMNS})
                SELECT {SIDE_TABLE_COLUMNS} FROM recon_side s
                WHERE s.side = {LEFT} AND NOT EXISTS (SELECT 1 FROM {picks} x WHERE x.l_id = s.row_id)
                UNION ALL
                SELECT {SIDE_TABLE_COLUMNS} FROM recon_side s
                WHERE s.side = {RIGHT} AND NOT EXISTS (SELECT 1 FROM {picks} x WHERE x.r_id = s.row_id)"""
            )
            self._analyze("recon_pool")
            self.pooled = True
            return
        self.run(
            f"""DELETE FROM recon_pool WHERE row_id IN (SELECT l_id FROM {picks})
            OR row_id IN (SELECT r_id FROM {picks})"""
        )

    def run(self, statement: str, params: Iterable = ()) -> None:
        self.cursor.execute(statement, list(params))

    def count(self, statement: str, params: Iterable = ()) -> int:
        """Run a write; returns the rows it wrote."""
        self.cursor.execute(statement, list(params))
        if self.cursor.rowcount >= 0:
            return self.cursor.rowcount
        # Python's SQLite driver leaves a write that starts with WITH uncounted.
        return self.value("SELECT changes()")

    def value(self, statement: str, params: Iterable = ()):
        self.cursor.execute(statement, list(params))
        return self.cursor.fetchone()[0]

    # -- loading -----------------------------------------------------------------

    def prepare(self) -> None:
        if sql.is_postgres():
            # Sorts and hashes over a million rows a side stay in memory, for this transaction only.
            self.run(f"SET LOCAL work_mem = '{WORK_MEM}'")
            # The row index over two million records is sorted in memory, not on disk.
            self.run(f"SET LOCAL maintenance_work_mem = '{WORK_MEM}'")
            # Compiling each statement costs a tenth of a second and gains nothing on
            # these plain scans, joins and aggregates.
            self.run("SET LOCAL jit = off")
            self._temp_buffers()
        for name, columns in _tables().items():
            for statement in sql.temp_table(name, columns):
                self.run(statement)

    def _temp_buffers(self) -> None:
        """Room for the temporary tables in memory. PostgreSQL keeps a session's
        temporary tables in its own buffers (8 MB by default), and a run's sides
        are hundreds of MB: without more, every statement reads and writes them
        through the disk. The size can only be set before the session's first
        temporary table, so a connection that already used one keeps its size."""
        self.run("SAVEPOINT recon_buffers")
        try:
            self.run(f"SET temp_buffers = '{TEMP_BUFFERS}'")
        except DatabaseError:
            self.run("ROLLBACK TO SAVEPOINT recon_buffers")
        self.run("RELEASE SAVEPOINT recon_buffers")

    def _analyze(self, table: str) -> None:
        """Planner statistics for a temporary table just filled: without them a
        join may be planned as a nested loop over a million rows. Of a side's
        records, only the columns statements join or filter on (sampling every
        column doubles the time)."""
        columns = RECORD_KEYS if table in ("recon_side", "recon_pool") else ()
        for statement in sql.analyze(table, columns):
            self.run(statement)

    def load(self, source: SideSource) -> None:
        """A side's rows, each with its reference normalised for comparison."""
        self.run(
            f"""INSERT INTO recon_side ({SIDE_COLUMNS}, ref)
            SELECT {SIDE_COLUMNS}, {sql.normalised("reference")} FROM ({source.rows.sql}) AS extracted""",
            source.rows.params,
        )

    def load_tokens(self, sources: Iterable[SideSource]) -> None:
        """The further references each source knows its records by (blank ones
        are no reference)."""
        for side, source in enumerate(sources):
            for statement in source.tokens:
                self.run(f"INSERT INTO recon_token (row_id, side, token) {statement.sql}", statement.params)
            if source.python_tokens is not None:
                self.add_tokens(source.python_tokens(self.cursor, side))
        # Blanks removed afterwards: a filter in the insert would normalise each token twice.
        self.run("DELETE FROM recon_token WHERE token = ''")
        if sql.is_postgres():
            # A key on the row id, built once the sides are in (cheaper than keeping it up
            # while loading): the few records a statement picks out of millions (suggestions,
            # other references, near misses) are looked up through it, not by hashing a side.
            self.run("CREATE UNIQUE INDEX recon_side_row ON recon_side (row_id)")
        self._analyze("recon_side")

    def load_rows(self, side: int, rows: Iterable[tuple]) -> None:
        """Records given as values (SIDE_COLUMNS after `side`), for data that is
        not in a table, such as the scorer's generated statements."""
        values = [(side, *row, sql.normalise_reference(row[2])) for row in rows]
        placeholders = ", ".join(["%s"] * (len(SIDE_COLUMNS.split(", ")) + 1))
        self.cursor.executemany(
            f"INSERT INTO recon_side ({SIDE_COLUMNS}, ref) VALUES ({placeholders})", values
        )

    def add_tokens(self, tokens: Iterable[tuple[int, int, str]]) -> None:
        tokens = [(row_id, side, token) for row_id, side, token in tokens if token]
        if tokens:
            self.cursor.executemany(
                "INSERT INTO recon_token (row_id, side, token) VALUES (%s, %s, %s)", tokens
            )

    def load_rejections(self, pairs: Iterable[tuple[str, str]]) -> None:
        pairs = list(pairs)
        if pairs:
            self.cursor.executemany("INSERT INTO recon_rejected (left_key, right_key) VALUES (%s, %s)", pairs)
            self.rejections = True

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
        members = _connected_groups(found)
        if members:
            self.cursor.executemany(
                """INSERT INTO recon_line (l_id, r_id, group_no, rule_id, outcome, decided)
                VALUES (%s, %s, %s, NULL, %s, 'confirmed')""",
                [(left, right, members[left], AUTO) for left, right in found],
            )
            self._take_picks("recon_line")
        groups = len(set(members.values()))
        self.groups[AUTO] += groups
        return groups

    # -- rules -------------------------------------------------------------------

    def apply(self, rule: RuleSpec) -> int:
        """Apply one rule to the records still open; returns the groups it made."""
        whole = {"1:1": None, "1:N": "l", "N:1": "r"}[rule.cardinality]
        candidates = self._candidates(rule, whole=whole)
        # The first choice goes straight to its table (a million pairs are not copied twice).
        target = "recon_pick" if self.pooled else chosen_table(rule.outcome)
        if self.pooled:
            self.run(sql.emptied("recon_pick"))
        pairs = None
        if whole is None and rule.outcome == AUTO:
            pairs = self._pick_unique(rule, target, candidates)
        else:
            self.run(sql.emptied("recon_cand"))
            for statement, params in candidates:
                self.run(f"INSERT INTO recon_cand (l_id, r_id, diff, gap) {statement}", params)
            if whole is None:
                pairs = self._pick_best(rule, target)
            else:
                self._pick_split(rule, target, whole=whole)
        return self._commit_picks(rule, target, pairs=pairs)

    def _tolerance(self, left: str, right: str, rule: RuleSpec) -> tuple[str, list]:
        """Two amounts agree within the larger of the rule's amount and percent
        of the larger amount."""
        if not rule.tolerance_percent:
            # A fixed bound, computed once instead of per candidate pair.
            return f"ABS({left} - {right}) <= {NUMBER}", [max(rule.amount_tolerance, Decimal(0)) + EPSILON]
        larger = sql.greatest(f"ABS({left})", f"ABS({right})")
        bound = sql.greatest(NUMBER, f"{NUMBER} * {larger} / 100")
        return f"ABS({left} - {right}) <= {bound} + {NUMBER}", [
            rule.amount_tolerance,
            rule.tolerance_percent,
            EPSILON,
        ]

    def _conditions(self, rule: RuleSpec, *, whole: str | None) -> tuple[list[str], list]:
        conditions = ["l.currency = r.currency"]
        if self.rejections:
            # (Without any, the test would still cost a look-up per candidate pair.)
            conditions.append(
                "NOT EXISTS (SELECT 1 FROM recon_rejected x WHERE x.left_key = l.source_key AND x.right_key = r.source_key)"
            )
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
        if rule.method == "amount_customer_date" or rule.date_window_days:
            conditions.append(f"{sql.day_gap('l.record_date', 'r.record_date')} <= %s")
            params.append(rule.date_window_days)
        return conditions, params

    def _candidates(self, rule: RuleSpec, *, whole: str | None) -> list[tuple[str, list]]:
        """The SELECTs (with their parameters) of the pairs of open records that
        agree on what the rule compares, as (l_id, r_id, diff, gap); they give a
        pair once. Pairs named by further references are first found into
        `recon_shared`."""
        conditions, params = self._conditions(rule, whole=whole)
        where = " AND ".join(conditions)
        gap = f"COALESCE({sql.day_gap('l.record_date', 'r.record_date')}, 0)"
        difference = "ABS(l.amount - r.amount)"
        if whole is None and rule.outcome == AUTO:
            # Only the number of candidates decides; difference and gap rank suggestions.
            gap = difference = "0"
        pair = f"SELECT l.row_id AS l_id, r.row_id AS r_id, {difference} AS diff, {gap} AS gap"
        table = self.open_records
        if rule.method == "amount_customer_date":
            return [
                (
                    f"""{pair} FROM {table} l JOIN {table} r
                        ON r.side = 1 AND r.customer_key = l.customer_key AND r.currency = l.currency
                    WHERE l.side = 0 AND l.customer_key <> '' AND {where}""",
                    params,
                )
            ]
        # Same normalised reference: one hash join of the side table with itself.
        selects = [
            (
                f"""{pair} FROM {table} l JOIN {table} r ON r.side = 1 AND r.ref = l.ref
                WHERE l.side = 0 AND l.ref <> '' AND {where}""",
                params,
            )
        ]
        # A further reference of one side naming the other's (a different pair only).
        # (Whether there is any, not how many: a million would be counted for nothing.)
        if not self.value("SELECT EXISTS (SELECT 1 FROM recon_token)"):
            return selects
        # The pairs first, into a table of their own: they are few, and the planner, knowing
        # it, looks their records up through the row key instead of hashing both sides.
        self.run(sql.emptied("recon_shared"))
        self.run(
            f"""INSERT INTO recon_shared (l_id, r_id)
            SELECT t.row_id, r.row_id FROM recon_token t
                JOIN {table} r ON r.side = 1 AND r.ref = t.token WHERE t.side = 0
            UNION
            SELECT l.row_id, t.row_id FROM recon_token t
                JOIN {table} l ON l.side = 0 AND l.ref = t.token WHERE t.side = 1
            UNION
            SELECT lt.row_id, rt.row_id FROM recon_token lt
                JOIN recon_token rt ON rt.side = 1 AND rt.token = lt.token WHERE lt.side = 0"""
        )
        self._analyze("recon_shared")
        selects.append(
            (
                f"""{pair} FROM recon_shared shared
                JOIN {table} l ON l.row_id = shared.l_id
                JOIN {table} r ON r.row_id = shared.r_id
                WHERE l.ref <> r.ref AND {where}""",
                params,
            )
        )
        return selects

    @staticmethod
    def _insert_picks(rule: RuleSpec, target: str) -> tuple[str, list]:
        """The start of a statement choosing pairs into `target`: the SELECT that
        follows gives l_id, r_id and group_no."""
        return (
            f"INSERT INTO {target} (rule_id, outcome, decided, l_id, r_id, group_no) SELECT %s, %s, '', ",
            [rule.id, rule.outcome],
        )

    def _pick_unique(self, rule: RuleSpec, target: str, candidates: list[tuple[str, list]]) -> int:
        """An automatic 1:1 rule takes the pairs that are each other's only
        candidate: two hash anti-joins, no sort. The candidates are a
        materialized CTE, not a table: only how many each record has decides, and
        no later statement reads them. Returns the pairs picked (each a group)."""
        insert, params = self._insert_picks(rule, target)
        union = " UNION ALL ".join(statement for statement, _ in candidates)
        values = [value for _, statement_params in candidates for value in statement_params]
        return self.count(
            f"""WITH c AS MATERIALIZED ({union})
            {insert} c.l_id, c.r_id, c.l_id FROM c
            WHERE NOT EXISTS (SELECT 1 FROM c o WHERE o.l_id = c.l_id AND o.r_id <> c.r_id)
              AND NOT EXISTS (SELECT 1 FROM c o WHERE o.r_id = c.r_id AND o.l_id <> c.l_id)""",
            values + params,
        )

    def _pick_best(self, rule: RuleSpec, target: str) -> int:
        """A suggesting 1:1 rule takes the candidates (`recon_cand`) that are each
        other's best. Returns the pairs picked: each is a group of its own."""
        insert, params = self._insert_picks(rule, target)
        # Each other's best: smallest difference, then smallest gap, then the earlier record.
        return self.count(
            f"""{insert} l_id, r_id, l_id FROM (
                SELECT l_id, r_id,
                    ROW_NUMBER() OVER (PARTITION BY l_id ORDER BY diff, gap, r_id) AS rl,
                    ROW_NUMBER() OVER (PARTITION BY r_id ORDER BY diff, gap, l_id) AS rr
                FROM recon_cand
            ) ranked WHERE rl = 1 AND rr = 1""",
            params,
        )

    def _pick_split(self, rule: RuleSpec, target: str, *, whole: str) -> None:
        """One whole, several parts: parts with a single candidate whole, summed."""
        whole_id, part_id = ("l_id", "r_id") if whole == "l" else ("r_id", "l_id")
        tolerance, params = self._tolerance("w.amount", "sums.total", rule)
        tax = ""
        if rule.compare_tax:
            condition, values = self._tolerance("w.tax_amount", "sums.tax_total", rule)
            tax = f" AND {condition}"
            params += values
        insert, chosen = self._insert_picks(rule, target)
        self.run(
            f"""{insert} c.l_id, c.r_id, c.{whole_id}
            FROM recon_cand c
            JOIN (
                SELECT sums.whole_id FROM (
                    SELECT c.{whole_id} AS whole_id, SUM(p.amount) AS total, SUM(p.tax_amount) AS tax_total
                    FROM recon_cand c JOIN recon_side p ON p.row_id = c.{part_id}
                    WHERE c.{part_id} IN (SELECT {part_id} FROM recon_cand GROUP BY {part_id} HAVING COUNT(*) = 1)
                    GROUP BY c.{whole_id} HAVING COUNT(*) >= 2
                ) sums JOIN recon_side w ON w.row_id = sums.whole_id
                WHERE {tolerance}{tax}
            ) taken ON taken.whole_id = c.{whole_id}
            WHERE c.{part_id} IN (SELECT {part_id} FROM recon_cand GROUP BY {part_id} HAVING COUNT(*) = 1)""",
            chosen + params,
        )

    def _commit_picks(self, rule: RuleSpec, picks: str, *, pairs: int | None) -> int:
        """The pairs just chosen into `picks` join the chosen ones (they are there
        already when `picks` is that table) and leave the pool; `pairs` when each
        pick is a group of its own (1:1)."""
        if pairs is None:
            pairs = self.value(f"SELECT COUNT(DISTINCT group_no) FROM {picks}")
        made = int(pairs or 0)
        if made:
            if picks == "recon_pick":
                self.run(
                    f"""INSERT INTO {chosen_table(rule.outcome)} (l_id, r_id, group_no, rule_id, outcome, decided)
                    SELECT l_id, r_id, group_no, rule_id, outcome, decided FROM recon_pick"""
                )
            self._take_picks(picks)
        self.groups[rule.outcome] += made
        return made

    def drop(self) -> None:
        for name in _tables():
            self.run(f"DROP TABLE IF EXISTS {name}")


def _connected_groups(pairs: list[tuple[int, int]]) -> dict[int, int]:
    """row id → group number (the group's smallest row id), records linked by
    any confirmed pair sharing a group."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for left, right in pairs:
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {row: find(row) for row in list(parent)}


__all__ = ["AUTO", "LEFT", "RIGHT", "SUGGEST", "Engine", "RuleSpec"]
