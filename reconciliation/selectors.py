"""Reads for the reconciliation pages: reconciliations with their latest run,
a run's totals as a table, its report lines by outcome, and open breaks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from exceptions_queue.models import OPEN_STATUSES, ExceptionItem
from reconciliation.breaks import CODE, key_prefix
from reconciliation.models import Outcome, Reconciliation, Run, RunLine, RunTotal, Side
from reconciliation.sources import SIDE_LABELS
from reconciliation.statements.models import BankStatement

_RECONCILIATION_IN_KEY = re.compile(rf"^{CODE}\|reconciliation:(\d+):")
OUTCOMES = [Outcome.UNMATCHED, Outcome.SUGGESTED, Outcome.MATCHED]


def reconciliations_with_latest() -> list[Reconciliation]:
    """Every reconciliation with `latest` (its newest run, or None) and `open_breaks`."""
    recons = list(
        Reconciliation.objects.select_related("legal_entity")
        .annotate(latest_id=Subquery(Run.objects.filter(reconciliation=OuterRef("pk")).values("pk")[:1]))
        .annotate(rule_count=Count("rules", filter=Q(rules__enabled=True)))
        .order_by("name")
    )
    runs = Run.objects.in_bulk([r.latest_id for r in recons if r.latest_id])
    breaks = open_break_counts()
    for recon in recons:
        recon.latest = runs.get(recon.latest_id)
        recon.open_breaks = breaks.get(recon.pk, 0)
        recon.left_label, recon.right_label = SIDE_LABELS[recon.kind]
    return recons


def open_break_counts() -> dict[int, int]:
    """reconciliation id → open breaks, from the queue's dedupe keys."""
    counts: dict[int, int] = {}
    keys = ExceptionItem.objects.filter(code=CODE, status__in=OPEN_STATUSES).values_list(
        "dedupe_key", flat=True
    )
    for key in keys.iterator(chunk_size=5_000):
        found = _RECONCILIATION_IN_KEY.match(key)
        if found:
            recon_id = int(found.group(1))
            counts[recon_id] = counts.get(recon_id, 0) + 1
    return counts


def open_breaks(reconciliation: Reconciliation) -> QuerySet[ExceptionItem]:
    return ExceptionItem.objects.filter(
        dedupe_key__startswith=key_prefix(reconciliation.pk), status__in=OPEN_STATUSES
    ).order_by("-last_seen_at", "-id")


@dataclass
class TotalsRow:
    currency: str
    cells: dict[tuple[str, str], tuple[int, Decimal]] = field(default_factory=dict)

    def cell(self, side: str, outcome: str) -> tuple[int, Decimal]:
        return self.cells.get((side, outcome), (0, Decimal(0)))

    def side_total(self, side: str) -> tuple[int, Decimal]:
        count = sum(n for (s, _), (n, _) in self.cells.items() if s == side)
        amount = sum((a for (s, _), (_, a) in self.cells.items() if s == side), Decimal(0))
        return count, amount

    @property
    def difference(self) -> Decimal:
        return self.side_total(Side.LEFT)[1] - self.side_total(Side.RIGHT)[1]

    def columns(self) -> Iterator[dict]:
        """In display order: for each side, each outcome then the side's total."""
        for side in (Side.LEFT, Side.RIGHT):
            for outcome in OUTCOMES:
                count, amount = self.cell(side, outcome)
                yield {"side": side, "outcome": outcome, "count": count, "amount": amount}
            count, amount = self.side_total(side)
            yield {"side": side, "outcome": "", "count": count, "amount": amount}


def run_totals(run: Run) -> list[TotalsRow]:
    rows: dict[str, TotalsRow] = {}
    for total in RunTotal.objects.filter(run=run):
        row = rows.setdefault(total.currency, TotalsRow(total.currency))
        row.cells[(total.side, total.outcome)] = (total.count, total.amount)
    return [rows[currency] for currency in sorted(rows)]


def run_lines(run: Run, outcome: str, *, side: str = "", q: str = "") -> QuerySet[RunLine]:
    """A run's report lines of one outcome, in the order written (through the
    primary key: each outcome's lines are one range of ids)."""
    first_last = (run.line_ranges or {}).get(outcome)
    if not first_last:
        return RunLine.objects.none()
    lines = RunLine.objects.filter(run=run, outcome=outcome, id__range=first_last)
    if side == Side.LEFT:
        lines = lines.exclude(left_key="")
    elif side == Side.RIGHT:
        lines = lines.exclude(right_key="")
    q = (q or "").strip()
    if q:
        lines = lines.filter(
            Q(left_reference__iexact=q)
            | Q(right_reference__iexact=q)
            | Q(left_customer=q)
            | Q(right_customer=q)
        )
    return lines.order_by("id")


def recent_runs(reconciliation: Reconciliation, limit: int = 20) -> list[Run]:
    return list(reconciliation.runs.order_by("-created_at", "-id")[:limit])


@dataclass
class CashRow:
    entry: object
    outcome: str = ""
    lines: list = field(default_factory=list)

    @property
    def applied(self) -> Decimal:
        return sum((line.right_amount or Decimal(0) for line in self.lines), Decimal(0))

    @property
    def difference(self) -> Decimal:
        """Received less the invoices' amounts: a bank fee or short payment below 0, an over payment above."""
        return self.entry.amount - self.applied


def statement_cash_application(statement) -> tuple[Run | None, list[CashRow]]:
    """Each credit of a bank statement with what the latest cash-application run
    made of it: the invoices it matched or was suggested for, or nothing."""
    from reconciliation.models import Kind

    run = (
        Run.objects.filter(reconciliation__kind=Kind.CASH_APPLICATION, status=Run.Status.SUCCEEDED)
        .select_related("reconciliation")
        .order_by("-created_at", "-id")
        .first()
    )
    entries = list(statement.entries.filter(direction="credit").order_by("sequence"))
    rows = {entry.pk: CashRow(entry) for entry in entries}
    if run is not None and rows:
        for line in RunLine.objects.filter(run=run, left_id__in=list(rows)).order_by("id"):
            row = rows[line.left_id]
            row.outcome = line.outcome
            if line.right_key:
                row.lines.append(line)
    return run, list(rows.values())


def recent_statements(limit: int = 12) -> list[BankStatement]:
    """The latest reconcilable bank statements, for links to their cash application."""
    return list(BankStatement.objects.filter(reconcilable=True).order_by("-period_end", "-id")[:limit])
