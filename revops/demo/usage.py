"""Metered usage on the demo's usage lines: weekly batches from a metering
system, each with its own event id, as a connector would deliver them.

Usage is drawn in memory first, then recorded through the service; invoice
planning bills the monthly totals of the drawn batches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from revops.demo.context import Demo, add_months, month_end, month_start
from revops.demo.contracts import ContractPlan, usage_lines
from revops.models import ContractLine
from revops.services.contracts import usage_record

USAGE_SOURCE = "metering"
_THOUSANDTHS = Decimal("0.001")


@dataclass
class Batch:
    day: dt.date
    minute: int
    quantity: Decimal


@dataclass
class UsagePlan:
    lines: list[ContractLine] = field(default_factory=list)
    batches: dict[tuple[int, dt.date], list[Batch]] = field(default_factory=dict)

    def total(self, line: ContractLine, month: dt.date) -> Decimal | None:
        batches = self.batches.get((line.pk, month))
        return sum((b.quantity for b in batches), Decimal(0)) if batches else None


def _weekly_days(month: dt.date) -> list[dt.date]:
    """The last day of each weekly batch in a month: the 7th, 14th, 21st and month end."""
    return [month.replace(day=7), month.replace(day=14), month.replace(day=21), month_end(month)]


def plan_usage(demo: Demo, plans: list[ContractPlan]) -> UsagePlan:
    rng, today = demo.rng, demo.today
    size_of = {p.contract.pk: p.profile.size for p in plans}
    first_month = add_months(month_start(demo.window_start), -1)
    usage = UsagePlan(lines=usage_lines(plans))
    for line in usage.lines:
        size = size_of[line.contract_id]
        if line.product.sku == "API-1K":
            weekly = Decimal(rng.randint(150, 900) * size)  # thousands of calls a week
        else:
            weekly = Decimal(rng.randint(40, 300) * size) / 4  # GB-months accrued a week
        month, index = first_month, 0
        while month <= today:
            growth = 1 + Decimal(index * 3) / 100
            for day in _weekly_days(month):
                if day <= today and line.is_effective_on(day):
                    minute = rng.randint(0, 59)
                    noise = Decimal(rng.randint(80, 120)) / 100
                    quantity = (weekly * growth * noise).quantize(_THOUSANDTHS)
                    usage.batches.setdefault((line.pk, month), []).append(Batch(day, minute, quantity))
            month, index = add_months(month, 1), index + 1
    return usage


def record_usage(demo: Demo, usage: UsagePlan) -> int:
    count = 0
    for line in usage.lines:
        month = add_months(month_start(demo.window_start), -1)
        while month <= demo.today:
            for batch in usage.batches.get((line.pk, month), []):
                _, created = usage_record(
                    contract_line=line,
                    quantity=batch.quantity,
                    usage_at=dt.datetime.combine(batch.day, dt.time(23, batch.minute), tzinfo=dt.UTC),
                    source=USAGE_SOURCE,
                    source_event_id=f"{line.contract.number}:{line.product.sku}:{batch.day:%Y%m%d}",
                    period_start=month,
                    period_end=month_end(month),
                    actor=demo.actor,
                )
                count += created
            month = add_months(month, 1)
    return count
