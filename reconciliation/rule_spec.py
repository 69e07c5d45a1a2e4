"""A matching rule as the engine applies it: the rule's settings, read once
from its row, so that the engine (and the scorer, which has no rows) works
from plain values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from reconciliation.engine_results import AUTO, SUGGEST


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
