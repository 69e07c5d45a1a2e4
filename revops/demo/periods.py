"""What one billing period of a contract invoices: subscriptions in advance,
prorated mid-period changes, one-off services once, and last month's usage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from revops.demo.catalog import ONE_OFF_SKUS, SUBSCRIPTION_SKUS, USAGE_SKUS
from revops.demo.context import add_months, long_date, month_end, month_start
from revops.models import ContractLine
from revops.money import quantize
from revops.services.billing import InvoiceLineSpec

DAY = dt.timedelta(days=1)
UsageLookup = Callable[[ContractLine, dt.date], Decimal | None]


def no_usage(line: ContractLine, month: dt.date) -> None:
    return None


class PeriodLines:
    """Invoice line specs for the billing periods of one contract."""

    def __init__(
        self,
        *,
        lines: list[ContractLine],
        months: int,
        currency: str,
        tax_rate: Decimal,
        tax_jurisdiction: str,
        usage: UsageLookup = no_usage,
    ):
        self.lines, self.months, self.currency, self.usage = lines, months, currency, usage
        self.tax = {"tax_rate": tax_rate, "tax_jurisdiction": tax_jurisdiction}

    def build(self, start: dt.date, end: dt.date, previous: dt.date | None) -> list[InvoiceLineSpec]:
        specs = []
        for line in self.lines:
            sku = line.product.sku
            if sku in SUBSCRIPTION_SKUS:
                if line.is_effective_on(start) and line.quantity > 0:
                    specs.append(self._subscription(line, start, end))
                if previous and previous < line.effective_from < start:
                    specs.extend(self._proration(line, previous, start))
            elif sku in ONE_OFF_SKUS and start <= line.effective_from <= end:
                specs.append(
                    InvoiceLineSpec(
                        description=line.product.name,
                        quantity=line.quantity,
                        unit_amount=line.unit_price,
                        product=line.product,
                        contract_line=line,
                        **self.tax,
                    )
                )
            elif sku in USAGE_SKUS:
                specs.extend(self._usage(line, start))
        return specs

    def _subscription(self, line: ContractLine, start: dt.date, end: dt.date) -> InvoiceLineSpec:
        return InvoiceLineSpec(
            description=f"{line.product.name}, {long_date(start)} – {long_date(end)}",
            quantity=line.quantity,
            unit_amount=line.unit_price * self.months,
            product=line.product,
            contract_line=line,
            period_start=start,
            period_end=end,
            **self.tax,
        )

    def _proration(self, line: ContractLine, previous: dt.date, start: dt.date) -> list[InvoiceLineSpec]:
        """A change part-way through the last period is charged for its remaining days;
        a reduction takes effect from the next period without a refund."""
        old = line.replaces
        monthly_change = line.quantity * line.unit_price - (old.quantity * old.unit_price if old else 0)
        days, period_days = (start - line.effective_from).days, (start - previous).days
        amount = quantize(monthly_change * self.months * days / period_days, self.currency)
        if amount <= 0:
            return []
        return [
            InvoiceLineSpec(
                description=(
                    f"{line.product.name}: change from {long_date(line.effective_from)}, "
                    f"prorated {days} of {period_days} days"
                ),
                quantity=1,
                unit_amount=amount,
                product=line.product,
                contract_line=line,
                period_start=line.effective_from,
                period_end=start - DAY,
                **self.tax,
            )
        ]

    def _usage(self, line: ContractLine, start: dt.date) -> list[InvoiceLineSpec]:
        """Usage is billed in arrears: last calendar month's total."""
        used_in = month_start(add_months(start, -1))
        quantity = self.usage(line, used_in)
        if not quantity:
            return []
        return [
            InvoiceLineSpec(
                description=f"{line.product.name} ({line.product.unit_label}), usage in {used_in:%B %Y}",
                quantity=quantity,
                unit_amount=line.unit_price,
                product=line.product,
                contract_line=line,
                period_start=used_in,
                period_end=month_end(used_in),
                **self.tax,
            )
        ]
