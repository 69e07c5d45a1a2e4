"""The tax check of incoming invoices: TAX_MISMATCH and its two corrections.

Before an invoice from any connector is created, `check_invoice_tax` works out
the tax each line should carry:
- from the legal entity's enabled Avalara connector when one is configured
  (an uncommitted SalesOrder: the tax per line and jurisdiction AvaTax computes);
- else from the tax rate table, for each line whose `tax_jurisdiction` names a
  jurisdiction with rates on the invoice's issue date.
Lines with no jurisdiction, or none with rates, are not checked. A line whose
tax differs from the expected tax by more than REVOPS_TAX_TOLERANCE raises a
`BusinessError` TAX_MISMATCH with one row per jurisdiction component and line,
and two one-click corrections for the analyst. They are directives, not payload
edits: `{"_tax": "accept_source"}` writes the invoice as received and records
the override; `{"_tax": "use_expected"}` writes it with the expected tax. The
resubmit handler hands them to the writer in `WriteContext.directives`.

Cost: everything the check reads is cached on the WriteContext (one per page):
when nothing applies, a page costs at most two queries whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings

from connectors.errors import BusinessError, ConfigurationError
from connectors.records import InvoiceLineRecord, InvoiceRecord
from revops.money import CURRENCY_EXPONENTS, money_text, quantize

if TYPE_CHECKING:
    from connectors.writers import WriteContext

TAX_DIRECTIVE = "_tax"
ACCEPT_SOURCE = "accept_source"
USE_EXPECTED = "use_expected"
DIRECTIVES = {TAX_DIRECTIVE: (ACCEPT_SOURCE, USE_EXPECTED)}
RATE_TABLE = "the tax rate table"
TAX_MODES = ("exclusive", "inclusive")
ZERO = Decimal(0)


@dataclass(frozen=True)
class ExpectedComponent:
    """The expected tax of one jurisdiction component on one line; `rate` in percent."""

    name: str
    authority: str
    type: str
    rate: Decimal
    amount: Decimal
    code: str = ""

    @property
    def label(self) -> str:
        who = f" ({self.authority})" if self.authority and self.authority != self.name else ""
        return f"{self.name}{who} {_percent(self.rate)}"


@dataclass(frozen=True)
class ExpectedLine:
    tax: Decimal
    components: tuple[ExpectedComponent, ...]

    @property
    def rate(self) -> Decimal:
        return sum((c.rate for c in self.components), ZERO)


@dataclass(frozen=True)
class LineCheck:
    number: int  # 1-based, as the invoice numbers its lines
    jurisdiction: str
    actual: Decimal
    expected: ExpectedLine


@dataclass(frozen=True)
class TaxFinding:
    source: str  # where the expected tax comes from, for people to read
    currency: str
    tax_mode: str
    tolerance: Decimal
    lines: tuple[LineCheck, ...]

    @property
    def mismatched(self) -> tuple[LineCheck, ...]:
        return tuple(c for c in self.lines if abs(c.expected.tax - c.actual) > self.tolerance)

    @property
    def expected_total(self) -> Decimal:
        return sum((c.expected.tax for c in self.lines), ZERO)

    @property
    def actual_total(self) -> Decimal:
        return sum((c.actual for c in self.lines), ZERO)


# -- what is expected ---------------------------------------------------------------------------


def _state(ctx: WriteContext) -> dict[str, Any]:
    return ctx.cache.setdefault("tax", {"components": {}, "engine_results": {}, "lines": {}, "rates_on": {}})


def _engine(ctx: WriteContext):
    """The legal entity's enabled Avalara connector (looked up once per context)."""
    state = _state(ctx)
    if "engine" not in state:
        from connectors.models import Connector

        state["engine"] = (
            Connector.objects.filter(kind="avalara", enabled=True, legal_entity=ctx.legal_entity)
            .order_by("name")
            .first()
        )
    return state["engine"]


def _codes(ctx: WriteContext) -> set[str]:
    state = _state(ctx)
    if "codes" not in state:
        from revops.selectors.tax import jurisdiction_codes

        state["codes"] = jurisdiction_codes(ctx.legal_entity)
    return state["codes"]


def _customer(rec: InvoiceRecord, ctx: WriteContext, customer):
    if customer is not None:
        return customer
    from revops.selectors.refs import find_by_external_id

    return find_by_external_id(
        system=ctx.system, object_type="customer", external_id=rec.customer_external_id
    )


def expected_invoice_tax(rec: InvoiceRecord, ctx: WriteContext, *, customer=None) -> TaxFinding | None:
    """What tax each checkable line of `rec` should carry, or None when no line can be checked."""
    if not rec.lines or rec.tax_mode not in TAX_MODES or rec.currency not in CURRENCY_EXPONENTS:
        return None  # nothing to check, or a document the invoice services refuse with their own error
    engine = _engine(ctx)
    if engine is not None:
        checks, source = _from_engine(rec, ctx, engine, customer)
    else:
        checks, source = _from_rate_table(rec, ctx, customer), RATE_TABLE
    if not checks:
        return None
    return TaxFinding(
        source=source,
        currency=rec.currency,
        tax_mode=rec.tax_mode,
        tolerance=settings.REVOPS_TAX_TOLERANCE,
        lines=tuple(checks),
    )


def _from_engine(rec: InvoiceRecord, ctx: WriteContext, connector, customer) -> tuple[list[LineCheck], str]:
    from connectors.base import get_kind

    source = f"Avalara AvaTax (connector {connector.name})"
    results = _state(ctx)["engine_results"]
    if rec not in results:
        customer = _customer(rec, ctx, customer)
        if customer is None:
            return [], source
        kind = get_kind(connector.kind)(connector)
        try:
            results[rec] = kind.expected_tax(rec, customer)
        except ConfigurationError as exc:
            # The invoice's own connector is fine: say which tax engine needs fixing.
            raise ConfigurationError(f"Tax engine connector {connector.name}: {exc.message}") from exc
        finally:
            kind.close()
    expected = results[rec]
    if not expected:
        return [], source
    checks = [
        LineCheck(number, line.tax_jurisdiction, line.tax_amount, expected[number])
        for number, line in enumerate(rec.lines, start=1)
        if number in expected
    ]
    return checks, source


def _from_rate_table(rec: InvoiceRecord, ctx: WriteContext, customer) -> list[LineCheck]:
    from revops.selectors.tax import components_by_code

    wanted = {line.tax_jurisdiction.strip() for line in rec.lines} & _codes(ctx)
    if not wanted:
        return []
    state = _state(ctx)
    cache = state["components"]
    missing = wanted - set(cache)
    if missing:
        cache.update(components_by_code(missing, ctx.legal_entity))
    customer = _customer(rec, ctx, customer)
    exempt = customer is not None and customer.tax_exempt
    checks = []
    for number, line in enumerate(rec.lines, start=1):
        code = line.tax_jurisdiction.strip()
        if code not in wanted:
            continue
        # Lines of a page mostly repeat the same jurisdiction, date and amount.
        key = (code, rec.issue_date, line.amount, rec.tax_mode, rec.currency, exempt)
        expected = state["lines"].get(key)
        if expected is None:
            expected = state["lines"][key] = _expected_line(cache.get(code, []), rec, line, exempt, state)
        if expected:
            checks.append(LineCheck(number, code, line.tax_amount, expected))
    return checks


def _expected_line(
    components, rec: InvoiceRecord, line: InvoiceLineRecord, exempt: bool, state
) -> ExpectedLine | bool:
    """The expected tax of one line from the rates valid on the issue date; False when none are."""
    from revops.services.tax import components_on, expected_line_tax

    day_key = (id(components), rec.issue_date)
    rates = state["rates_on"].get(day_key)
    if rates is None:
        rates = state["rates_on"][day_key] = components_on(components, rec.issue_date)
    if not rates:
        return False
    amounts = (
        [quantize(ZERO, rec.currency)] * len(rates)
        if exempt
        else expected_line_tax(line.amount, rec.tax_mode, rates, rec.currency)
    )
    components = tuple(
        ExpectedComponent(
            name=rate.name, authority=rate.authority, type=rate.type, rate=rate.rate, amount=amount
        )
        for rate, amount in zip(rates, amounts, strict=True)
    )
    return ExpectedLine(sum(amounts, ZERO), components)


# -- the check ----------------------------------------------------------------------------------


def check_invoice_tax(rec: InvoiceRecord, ctx: WriteContext, *, customer=None) -> TaxFinding | None:
    """Raise TAX_MISMATCH when a line's tax is off by more than the tolerance,
    unless the analyst's directive says how to resolve it; returns what was found."""
    finding = expected_invoice_tax(rec, ctx, customer=customer)
    if finding is None or not finding.mismatched:
        return finding
    if ctx.directives.get(TAX_DIRECTIVE) in DIRECTIVES[TAX_DIRECTIVE]:
        return finding
    raise mismatch_error(rec, finding, ctx, customer=_customer(rec, ctx, customer))


def mismatch_error(
    rec: InvoiceRecord, finding: TaxFinding, ctx: WriteContext, *, customer=None
) -> BusinessError:
    cur = finding.currency
    number = rec.number or rec.external_id
    worst = finding.mismatched
    line_words = "; ".join(
        f"line {c.number} has {money_text(c.actual, cur)} tax where {finding.source} expects "
        f"{money_text(c.expected.tax, cur)}"
        for c in worst
    )
    message = f"Invoice {number}: {line_words} (tolerance {money_text(finding.tolerance, cur)} a line)."
    return BusinessError(
        message,
        code="TAX_MISMATCH",
        field="tax_total",
        expected=str(finding.expected_total),
        actual=str(finding.actual_total),
        rows=_rows(worst, cur),
        suggested_correction=_suggestion(rec, finding, ctx),
        subject=customer,
        details={"source": finding.source, "tolerance": str(finding.tolerance)},
    )


def _rows(checks: tuple[LineCheck, ...], currency: str) -> list[dict[str, Any]]:
    rows = []
    for check in checks:
        field = f"lines[{check.number}].tax_amount"
        where = f" ({check.jurisdiction})" if check.jurisdiction else ""
        for component in check.expected.components:
            rows.append(
                {
                    "field": field,
                    "label": f"Line {check.number}{where} · {component.label}",
                    "expected": str(component.amount),
                    "actual": None,
                    "message": "Expected share of the line's tax; the source gives only the line's total.",
                }
            )
        difference = check.actual - check.expected.tax
        rows.append(
            {
                "field": field,
                "label": f"Line {check.number}{where} · total tax {_percent(check.expected.rate)}",
                "expected": str(check.expected.tax),
                "actual": str(check.actual),
                "message": f"{'Over' if difference > 0 else 'Under'} by {money_text(abs(difference), currency)}.",
            }
        )
    return rows


def _suggestion(rec: InvoiceRecord, finding: TaxFinding, ctx: WriteContext) -> dict[str, Any]:
    cur = finding.currency
    number = rec.number or rec.external_id
    actual, expected = money_text(finding.actual_total, cur), money_text(finding.expected_total, cur)
    if rec.tax_mode == "inclusive":
        effect = f"the line amounts and the total of {money_text(rec.total, cur)} stay; the tax included becomes {expected}"
    else:
        effect = f"the total becomes {money_text(corrected_total(rec, finding), cur)} instead of {money_text(rec.total, cur)}"
    return {
        "summary": f"{_source(ctx).capitalize()} charged {actual} tax on {number}; {finding.source} expects {expected}.",
        "options": [
            {
                "key": ACCEPT_SOURCE,
                "label": f"Accept {_source(ctx)}'s tax of {actual} as an override",
                "description": (
                    f"Create {number} as {_source(ctx)} sent it and record the override, with your reason, "
                    "on the invoice's history and as a business event."
                ),
                "correction": {TAX_DIRECTIVE: ACCEPT_SOURCE},
            },
            {
                "key": USE_EXPECTED,
                "label": f"Correct the tax to the expected {expected}",
                "description": f"Create {number} with the tax {finding.source} expects per line: {effect}.",
                "correction": {TAX_DIRECTIVE: USE_EXPECTED},
            },
        ],
    }


# -- applying a directive -------------------------------------------------------------------------


def _shift(finding: TaxFinding) -> Decimal:
    """How much the tax moves when every mismatched line carries its expected tax."""
    return sum((c.expected.tax - c.actual for c in finding.mismatched), ZERO)


def corrected_total(rec: InvoiceRecord, finding: TaxFinding) -> Decimal:
    """The invoice total once each mismatched line carries its expected tax."""
    if rec.tax_mode == "inclusive":
        return rec.total
    return rec.total + _shift(finding)


@dataclass(frozen=True)
class Resolution:
    """How the writer creates an invoice whose tax mismatch the analyst resolved."""

    directive: str
    record: InvoiceRecord  # the record to write (lines corrected for use_expected)
    expected_total: Decimal  # the total the document must come to
    note: str  # appended to the history reason
    event_type: str
    event_payload: dict[str, Any]


def resolution(rec: InvoiceRecord, finding: TaxFinding | None, ctx: WriteContext) -> Resolution | None:
    """The analyst's directive applied to a mismatching invoice; None when there
    is nothing to resolve (no mismatch any more, or no directive)."""
    directive = ctx.directives.get(TAX_DIRECTIVE)
    if finding is None or not finding.mismatched or directive not in DIRECTIVES[TAX_DIRECTIVE]:
        return None
    cur = finding.currency
    reason = (ctx.directives.get("_reason") or "").strip()
    because = f": {reason}" if reason else ""
    lines = [
        {
            "line": c.number,
            "jurisdiction": c.jurisdiction,
            "expected": c.expected.tax,
            "actual": c.actual,
            "components": [{"label": comp.label, "expected": comp.amount} for comp in c.expected.components],
        }
        for c in finding.mismatched
    ]
    payload = {
        "source_system": ctx.system,
        "expected_from": finding.source,
        "tolerance": finding.tolerance,
        "lines": lines,
        "source_total": rec.total,
        "exception_item": ctx.directives.get("_exception"),
        "reason": reason,
    }
    actual, expected = money_text(finding.actual_total, cur), money_text(finding.expected_total, cur)
    if directive == ACCEPT_SOURCE:
        return Resolution(
            directive=directive,
            record=rec,
            expected_total=rec.total,
            note=f"tax override: {ctx.system}'s {actual} accepted instead of the {expected} {finding.source} expects{because}",
            event_type="invoice.tax_override_accepted",
            event_payload={**payload, "total": rec.total},
        )
    corrected = _with_expected_tax(rec, finding)
    total = corrected_total(rec, finding)
    changes = "; ".join(
        f"line {c.number} {money_text(c.actual, cur)} → {money_text(c.expected.tax, cur)}"
        for c in finding.mismatched
    )
    return Resolution(
        directive=directive,
        record=corrected,
        expected_total=total,
        note=f"tax corrected to the {expected} {finding.source} expects instead of {ctx.system}'s {actual} ({changes}){because}",
        event_type="invoice.tax_corrected",
        event_payload={**payload, "total": total},
    )


def _with_expected_tax(rec: InvoiceRecord, finding: TaxFinding) -> InvoiceRecord:
    """`rec` with each mismatched line's tax (and rate) as expected. Exclusive
    lines keep their amounts (the total moves); inclusive lines keep their
    amounts too, as the tax is a part of them."""
    by_line = {c.number: c for c in finding.mismatched}
    lines: list[InvoiceLineRecord] = []
    for number, line in enumerate(rec.lines, start=1):
        check = by_line.get(number)
        if check is None:
            lines.append(line)
            continue
        lines.append(
            replace(line, tax_amount=check.expected.tax, tax_rate=min(check.expected.rate, Decimal(100)))
        )
    tax_total = rec.tax_total + _shift(finding)
    return replace(rec, lines=tuple(lines), tax_total=tax_total, total=corrected_total(rec, finding))


def _percent(rate: Decimal) -> str:
    from revops.services.tax import percent_text

    return percent_text(rate)


def _source(ctx: WriteContext) -> str:
    """Who sent the invoice, for people: "stripe", or "the file" for CSV imports."""
    return "the file" if ctx.system == "file" else ctx.system
