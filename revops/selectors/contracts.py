"""Contracts: the list, and the detail page with its amendment timeline and usage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet, Sum
from django.utils import timezone

from revops.models import Contract, ContractAmendment, ContractLine, ExternalRef, Invoice, UsageRecord
from revops.selectors.search import document_search, external_refs_for, first_rows

CONTRACT_SORTS: dict[str, tuple[str, ...]] = {
    "-start_date": ("-start_date", "-id"),
    "start_date": ("start_date", "id"),
    "number": ("number",),
    "-number": ("-number",),
}
CONTRACT_DEFAULT_SORT = "-start_date"
USAGE_PERIODS_SHOWN = 24


def contract_list(
    *, q: str = "", status: str = "", customer_id: int | None = None, sort: str = CONTRACT_DEFAULT_SORT
) -> QuerySet[Contract]:
    qs = Contract.objects.select_related("customer")
    if status:
        qs = qs.filter(status=status)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if q:
        qs = qs.filter(document_search(Contract, q))
    return qs.order_by(*CONTRACT_SORTS.get(sort, CONTRACT_SORTS[CONTRACT_DEFAULT_SORT]))


@dataclass
class TimelineStep:
    """The contract as signed (amendment None) or one amendment: the lines it
    added and the lines it ended."""

    amendment: ContractAmendment | None
    effective_date: dt.date
    added: list[ContractLine]
    ended: list[ContractLine]


@dataclass
class UsagePeriod:
    line: ContractLine
    period_start: dt.date
    period_end: dt.date
    quantity: object
    records: int
    last_usage_at: dt.datetime


@dataclass
class ContractDetail:
    contract: Contract
    lines: list[ContractLine]
    current_lines: list[ContractLine]
    timeline: list[TimelineStep]
    usage: list[UsagePeriod]
    invoices: list[Invoice]
    more_invoices: bool
    external_refs: list[ExternalRef]
    today: dt.date


def label_lines(lines: list[ContractLine]) -> None:
    """Give each line a short label (#id, as History names it) and link it to
    the line that replaced it, so the timeline reads without more queries."""
    by_id = {line.pk: line for line in lines}
    for line in lines:
        line.label = f"#{line.pk}"
        line.successor = None
    for line in lines:
        line.predecessor = by_id.get(line.replaces_id)
        if line.predecessor is not None:
            line.predecessor.successor = line


def contract_timeline(contract: Contract, lines: list[ContractLine]) -> list[TimelineStep]:
    amendments = list(contract.amendments.order_by("sequence"))
    signed = TimelineStep(
        amendment=None,
        effective_date=contract.start_date,
        added=[line for line in lines if line.amendment_id is None],
        ended=[],
    )
    steps = [signed]
    for amendment in amendments:
        steps.append(
            TimelineStep(
                amendment=amendment,
                effective_date=amendment.effective_date,
                added=[line for line in lines if line.amendment_id == amendment.pk],
                ended=[line for line in lines if line.ended_by_id == amendment.pk],
            )
        )
    return steps


def contract_usage(contract: Contract, lines: list[ContractLine]) -> list[UsagePeriod]:
    """Usage per line and billing period, newest periods first."""
    by_id = {line.pk: line for line in lines}
    rows = (
        UsageRecord.objects.filter(contract_line__contract=contract)
        .order_by()
        .values("contract_line_id", "period_start", "period_end")
        .annotate(quantity=Sum("quantity"), records=Count("id"), last_usage_at=Max("usage_at"))
        .order_by("-period_start", "contract_line_id")[:USAGE_PERIODS_SHOWN]
    )
    return [
        UsagePeriod(
            line=by_id[row["contract_line_id"]],
            period_start=row["period_start"],
            period_end=row["period_end"],
            quantity=row["quantity"],
            records=row["records"],
            last_usage_at=row["last_usage_at"],
        )
        for row in rows
    ]


def contract_detail(contract_id: int, *, today: dt.date | None = None) -> ContractDetail:
    """Raises Contract.DoesNotExist."""
    today = today or timezone.localdate()
    contract = Contract.objects.select_related("customer").get(pk=contract_id)
    lines = list(
        ContractLine.objects.filter(contract=contract)
        .select_related("product", "amendment", "ended_by")
        .order_by("effective_from", "id")
    )
    label_lines(lines)
    invoices, more_invoices = first_rows(contract.invoices.order_by("-issue_date", "-id"), 20)
    return ContractDetail(
        contract=contract,
        lines=lines,
        current_lines=[line for line in lines if line.is_effective_on(today)],
        timeline=contract_timeline(contract, lines),
        usage=contract_usage(contract, lines),
        invoices=invoices,
        more_invoices=more_invoices,
        external_refs=external_refs_for(contract),
        today=today,
    )
