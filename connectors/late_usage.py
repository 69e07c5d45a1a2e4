"""Late usage in the pipeline: LATE_USAGE and its two resolutions.

Every usage event a connector brings in (a CSV usage import, a metering
connector) is recorded through `revops.services.usage.usage_record`, which
refuses usage for a period an issued invoice has already closed (the cutoff is
derived from invoices: see revops.selectors.usage). The writer turns that refusal
into a `BusinessError` LATE_USAGE: one row each for the period, the invoice that
closed it, the quantity and the amount it would bill, the contract as subject,
and two one-click corrections. They are directives, not payload edits:

- `{"_late_usage": "next_period"}`: record the usage and bill it as an
  adjustment line on the contract's next invoice;
- `{"_late_usage": "credit_rebill"}`: credit the closing invoice's usage line(s)
  and issue a new invoice for the period with the usage included.

The resubmit handler hands them to the writer in `WriteContext.directives`; the
service carries them out, with the analyst's reason in the history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.errors import BusinessError
from revops.money import money_text

if TYPE_CHECKING:
    from connectors.records import UsageRecordIn
    from connectors.writers import WriteContext
    from revops.services.usage import LateUsage

LATE_USAGE_DIRECTIVE = "_late_usage"
NEXT_PERIOD = "next_period"
CREDIT_REBILL = "credit_rebill"
DIRECTIVES = {LATE_USAGE_DIRECTIVE: (NEXT_PERIOD, CREDIT_REBILL)}


def treatment(ctx: WriteContext) -> str:
    """The late usage treatment the analyst chose for this resubmission, or ""."""
    value = ctx.directives.get(LATE_USAGE_DIRECTIVE, "")
    return value if value in DIRECTIVES[LATE_USAGE_DIRECTIVE] else ""


def reason(ctx: WriteContext) -> str:
    """The history reason of a write: the run's, with the analyst's reason when resubmitted."""
    analyst = (ctx.directives.get("_reason") or "").strip()
    return f"{ctx.reason}: {analyst}" if analyst else ctx.reason


def late_error(late: LateUsage, rec: UsageRecordIn, ctx: WriteContext) -> BusinessError:
    from revops.services.usage import period_label

    line, invoice, cur = late.contract_line, late.closure.invoice, late.currency
    contract = line.contract
    period = period_label(late.period_start, late.period_end)
    quantity = f"{late.quantity.normalize():f}"
    amount = money_text(late.amount, cur)
    message = (
        f"Usage {rec.external_id}: {quantity} {line.product.sku} on {contract.number} for {period} "
        f"arrived after invoice {invoice.number} closed that period ({late.closure.why}); "
        f"it would bill {amount}."
    )
    rows = [
        {
            "field": "period",
            "label": "Usage period",
            "expected": "a period not yet invoiced",
            "actual": f"{late.period_start} – {late.period_end}",
        },
        {
            "field": "invoice",
            "label": "Closed by invoice",
            "expected": None,
            "actual": f"{invoice.number} ({invoice.get_status_display().lower()}, issued {invoice.issue_date})",
        },
        {"field": "quantity", "label": "Quantity", "expected": None, "actual": quantity},
        {
            "field": "amount",
            "label": "Amount it would bill",
            "expected": None,
            "actual": amount,
            "message": f"{quantity} × {money_text(late.unit_amount, cur)} on line #{line.pk} ({line.product.sku}).",
        },
    ]
    return BusinessError(
        message,
        code="LATE_USAGE",
        field="period",
        rows=rows,
        suggested_correction=_suggestion(late, period, amount),
        subject=contract,
        details={
            "invoice": invoice.number,
            "period_start": str(late.period_start),
            "period_end": str(late.period_end),
            "quantity": quantity,
            "amount": str(late.amount),
            "currency": cur,
        },
    )


def _suggestion(late: LateUsage, period: str, amount: str) -> dict[str, Any]:
    from revops.services.usage import next_billing_period

    invoice = late.closure.invoice
    contract = late.contract_line.contract
    start, end = next_billing_period(contract, invoice)
    credited = (
        f"a credit note for the usage {invoice.number} billed for {period}, then a new invoice for {period} "
        f"with that usage and the late {amount} (needs {invoice.number} to be open with that much due)"
        if late.closure.lines
        else f"a new invoice for {period} with the late {amount} ({invoice.number} billed no usage of this "
        "line for the period, so nothing is credited)"
    )
    return {
        "summary": f"{amount} of usage for {period} arrived after {invoice.number} was issued.",
        "options": [
            {
                "key": NEXT_PERIOD,
                "label": "Bill in the next period as an adjustment line",
                "description": (
                    f"Record the usage and add a {amount} adjustment line to {contract.number}'s next "
                    f"invoice (its draft for {start} – {end}, made if there is none yet)."
                ),
                "correction": {LATE_USAGE_DIRECTIVE: NEXT_PERIOD},
            },
            {
                "key": CREDIT_REBILL,
                "label": "Credit the invoice and re-bill the period",
                "description": f"Record the usage and issue {credited}.",
                "correction": {LATE_USAGE_DIRECTIVE: CREDIT_REBILL},
            },
        ],
    }
