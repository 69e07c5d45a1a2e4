"""What each side of a reconciliation reads, as SQL that copies the needed
columns set-based into the run's side table (`INSERT … SELECT`).

Every extractor yields rows of SIDE_COLUMNS: where the record came from
(`source_key`, the canonical row id when there is one), how it is referred to
(`reference`, plus any further tokens such as other systems' ids), whose it is
(`customer_key`: the customer's number), when (`record_date`), how much
(`amount`, `tax_amount`, `currency`) and its `status` in words both sides share.

Canonical data is read from revops' tables; another system's documents from
`ExternalRecord`, the snapshot of that system loaded set-based. No app's code
other than revops' models is imported: the tables are the contract.
"""

# Statements are put together from this package's own constant fragments (table and column
# names, vendor spellings); every value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciliation import sql
from reconciliation.models import Kind

SIDE_NAMES = (
    "side",
    "source_key",
    "source_id",
    "reference",
    "customer_key",
    "record_date",
    "amount",
    "tax_amount",
    "currency",
    "status",
)
SIDE_COLUMNS = ", ".join(SIDE_NAMES)
LEFT, RIGHT = 0, 1
# How far before a run's dates an invoice may still be paid by cash received in them.
OUTSTANDING = dt.timedelta(days=180)


@dataclass(frozen=True)
class Scope:
    date_from: dt.date
    date_to: dt.date
    legal_entity_id: int | None = None
    external_system: str = ""


@dataclass
class Statement:
    sql: str
    params: list = field(default_factory=list)


@dataclass
class SideSource:
    """Fills one side: `rows` is a SELECT of SIDE_COLUMNS (see `select`) the
    engine copies into recon_side; `tokens` are SELECTs of further references
    (row_id, side, token) of the rows copied, which the engine keeps."""

    label: str
    rows: Statement
    tokens: list[Statement] = field(default_factory=list)
    # Tokens SQL cannot find portably (words in free text): (cursor, side) → [(row id, side, token)].
    python_tokens: Callable | None = None


def select(*expressions: str) -> str:
    """A SELECT list naming each expression after its side column, in order."""
    if len(expressions) != len(SIDE_NAMES):
        raise ValueError(f"A side row has {len(SIDE_NAMES)} columns: {SIDE_COLUMNS}.")
    return "SELECT " + ", ".join(
        f"{expr} AS {name}" for expr, name in zip(expressions, SIDE_NAMES, strict=True)
    )


def _entity_filter(column: str, scope: Scope) -> tuple[str, list]:
    if scope.legal_entity_id is None:
        return "", []
    return f" AND {column} = %s", [scope.legal_entity_id]


def _external_ref_tokens(side: int, object_type: str) -> Statement:
    """Every id another system gives the canonical record is a reference too."""
    return Statement(
        f"""SELECT s.row_id, s.side, {sql.normalised("x.external_id")} AS token
        FROM recon_side s
        JOIN revops_externalref x ON x.object_id = s.source_id AND x.object_type = %s
        WHERE s.side = %s""",
        [object_type, side],
    )


def _invoices(
    side: int, scope: Scope, label: str, statuses: tuple[str, ...], dated: str = "issue_date", since=None
) -> SideSource:
    entity, entity_params = _entity_filter("i.legal_entity_id", scope)
    listed = ", ".join(f"'{status}'" for status in statuses)
    return SideSource(
        label,
        Statement(
            f"""{
                select(
                    "%s",
                    sql.as_text("i.id"),
                    "i.id",
                    "i.number",
                    "c.number",
                    f"i.{dated}",
                    "i.total",
                    "i.tax_total",
                    "i.currency",
                    "i.status",
                )
            }
            FROM revops_invoice i JOIN revops_customer c ON c.id = i.customer_id
            WHERE i.status IN ({listed}) AND i.{dated} BETWEEN %s AND %s{entity}""",
            [side, since or scope.date_from, scope.date_to, *entity_params],
        ),
        [_external_ref_tokens(side, "invoice")],
    )


def billing_invoices(side: int, scope: Scope) -> SideSource:
    """Every invoice issued (drafts are not documents yet), voided ones included:
    the ERP must show the void too."""
    return _invoices(side, scope, "Billing invoices", ("open", "paid", "void", "uncollectible"))


def open_invoices(side: int, scope: Scope) -> SideSource:
    """Invoices cash is applied to, dated by when they fall due (transfers arrive
    around then); cash received in the run's dates may pay invoices due months before."""
    since = scope.date_from - OUTSTANDING
    return _invoices(side, scope, "Invoices", ("open", "paid"), dated="due_date", since=since)


def charged_invoices(side: int, scope: Scope) -> SideSource:
    """Invoices a gateway charges, dated by issue (cards are charged then), from
    months before the run's dates: a late payment pays an old invoice."""
    return _invoices(side, scope, "Invoices", ("open", "paid"), since=scope.date_from - OUTSTANDING)


def external_records(object_type: str, label: str) -> Callable[[int, Scope], SideSource]:
    def source(side: int, scope: Scope) -> SideSource:
        entity = ""
        params: list = [side, scope.external_system, object_type, scope.date_from, scope.date_to]
        if scope.legal_entity_id is not None:
            entity = (
                " AND (e.legal_entity_code = ''"
                " OR e.legal_entity_code = (SELECT code FROM revops_legalentity WHERE id = %s))"
            )
            params.append(scope.legal_entity_id)
        return SideSource(
            label,
            Statement(
                f"""{
                    select(
                        "%s",
                        "e.external_id",
                        "CAST(NULL AS BIGINT)",
                        "e.reference",
                        "e.customer_key",
                        "e.record_date",
                        "e.amount",
                        "e.tax_amount",
                        "e.currency",
                        "e.status",
                    )
                }
                FROM reconciliation_externalrecord e
                WHERE e.system = %s AND e.object_type = %s AND e.record_date BETWEEN %s AND %s{entity}""",
                params,
            ),
            [
                Statement(
                    f"""SELECT s.row_id, s.side, {sql.normalised("s.source_key")} AS token FROM recon_side s
                    WHERE s.side = %s AND s.source_key <> s.reference""",
                    [side],
                )
            ],
        )

    return source


def gateway_payments(side: int, scope: Scope) -> SideSource:
    """Payments taken by a gateway (scope.external_system names it, e.g. stripe;
    empty: every gateway). The reference is the gateway's id; the memo often
    names the invoice, so it is a reference too."""
    entity, entity_params = _entity_filter("p.legal_entity_id", scope)
    gateway = ""
    params = [side, scope.date_from, scope.date_to, *entity_params]
    if scope.external_system:
        gateway = " AND p.gateway = %s"
        params.append(scope.external_system)
    return SideSource(
        "Gateway payments",
        Statement(
            f"""{
                select(
                    "%s",
                    sql.as_text("p.id"),
                    "p.id",
                    "p.gateway_reference",
                    "COALESCE(c.number, '')",
                    "p.received_date",
                    "p.amount",
                    "0",
                    "p.currency",
                    "p.status",
                )
            }
            FROM revops_payment p LEFT JOIN revops_customer c ON c.id = p.customer_id
            WHERE p.status <> 'reversed' AND p.gateway <> ''
              AND p.received_date BETWEEN %s AND %s{entity}{gateway}""",
            params,
        ),
        [
            _external_ref_tokens(side, "payment"),
        ],
        python_tokens=_memo_tokens,
    )


def _memo_tokens(cursor, side: int) -> list[tuple[int, int, str]]:
    """Invoice numbers a payment's memo names ("Remittance: INV-1, INV-2")."""
    from reconciliation.cash import remittance_tokens

    cursor.execute(
        """SELECT s.row_id, p.memo FROM recon_side s JOIN revops_payment p ON p.id = s.source_id
        WHERE s.side = %s AND p.memo <> ''""",
        [side],
    )
    return [(row_id, side, token) for row_id, memo in cursor.fetchall() for token in remittance_tokens(memo)]


def active_contracts(side: int, scope: Scope) -> SideSource:
    """Contracts in force, with the CRM's ids as references. A deal and its
    contract agree when they name each other and the customer; amounts are not
    compared (a contract's value is in its lines)."""
    entity, entity_params = _entity_filter("c.legal_entity_id", scope)
    return SideSource(
        "Active contracts",
        Statement(
            f"""{
                select(
                    "%s",
                    sql.as_text("k.id"),
                    "k.id",
                    "k.number",
                    "c.number",
                    "k.start_date",
                    "0",
                    "0",
                    "k.currency",
                    "k.status",
                )
            }
            FROM revops_contract k JOIN revops_customer c ON c.id = k.customer_id
            WHERE k.status = 'active' AND k.start_date BETWEEN %s AND %s{entity}""",
            [side, scope.date_from, scope.date_to, *entity_params],
        ),
        [_external_ref_tokens(side, "contract")],
    )


def _period_key(line: str, period: str) -> str:
    return sql.concat(sql.as_text(line), "':'", sql.as_text(period))


def usage_per_period(side: int, scope: Scope) -> SideSource:
    """Usage metered per contract line and period: the quantity is the amount
    compared. A period counts once usage billing has passed it (a metered line
    of the contract was invoiced for that period or a later one): usage of the
    period being metered now is not billed yet, and not a break."""
    entity, entity_params = _entity_filter("c.legal_entity_id", scope)
    return SideSource(
        "Metered usage",
        Statement(
            f"""{
                select(
                    "%s",
                    _period_key("u.contract_line_id", "u.period_start"),
                    "u.contract_line_id",
                    _period_key("u.contract_line_id", "u.period_start"),
                    "c.number",
                    "u.period_start",
                    "SUM(u.quantity)",
                    "0",
                    "k.currency",
                    "''",
                )
            }
            FROM revops_usagerecord u
            JOIN revops_contractline l ON l.id = u.contract_line_id
            JOIN revops_contract k ON k.id = l.contract_id
            JOIN revops_customer c ON c.id = k.customer_id
            WHERE u.period_start BETWEEN %s AND %s{entity}
              AND EXISTS (
                  SELECT 1 FROM revops_invoiceline il
                  JOIN revops_invoice i ON i.id = il.invoice_id
                  JOIN revops_contractline billed ON billed.id = il.contract_line_id
                  WHERE billed.contract_id = l.contract_id AND il.period_start >= u.period_start
                    AND i.status <> 'void'
                    AND EXISTS (SELECT 1 FROM revops_usagerecord m WHERE m.contract_line_id = billed.id)
              )
            GROUP BY u.contract_line_id, u.period_start, k.number, c.number, k.currency""",
            [side, scope.date_from, scope.date_to, *entity_params],
        ),
    )


def billed_usage_per_period(side: int, scope: Scope) -> SideSource:
    """Quantities invoiced per metered contract line (one with usage recorded) and
    period, void invoices left out."""
    entity, entity_params = _entity_filter("i.legal_entity_id", scope)
    return SideSource(
        "Billed usage",
        Statement(
            f"""{
                select(
                    "%s",
                    _period_key("il.contract_line_id", "il.period_start"),
                    "il.contract_line_id",
                    _period_key("il.contract_line_id", "il.period_start"),
                    "c.number",
                    "il.period_start",
                    "SUM(il.quantity)",
                    "0",
                    "k.currency",
                    "''",
                )
            }
            FROM revops_invoiceline il
            JOIN revops_invoice i ON i.id = il.invoice_id
            JOIN revops_contractline l ON l.id = il.contract_line_id
            JOIN revops_contract k ON k.id = l.contract_id
            JOIN revops_customer c ON c.id = k.customer_id
            WHERE i.status <> 'void' AND il.period_start BETWEEN %s AND %s{entity}
              AND EXISTS (SELECT 1 FROM revops_usagerecord u WHERE u.contract_line_id = il.contract_line_id)
            GROUP BY il.contract_line_id, il.period_start, k.number, c.number, k.currency""",
            [side, scope.date_from, scope.date_to, *entity_params],
        ),
    )


# Sides whose unmatched records are breaks. An invoice no payment or credit
# matched is simply not paid yet (receivables show it), not a break.
BREAK_SIDES: dict[str, tuple[str, ...]] = {
    Kind.INVOICES_ERP: ("left", "right"),
    Kind.PAYMENTS_INVOICES: ("left",),
    Kind.CASH_APPLICATION: ("left",),
    Kind.USAGE_BILLED: ("left", "right"),
    Kind.DEALS_CONTRACTS: ("left", "right"),
}

# kind → (left side, right side)
SIDES: dict[str, tuple[Callable[[int, Scope], SideSource], Callable[[int, Scope], SideSource]]] = {
    Kind.INVOICES_ERP: (billing_invoices, external_records("invoice", "ERP invoices")),
    Kind.PAYMENTS_INVOICES: (gateway_payments, charged_invoices),
    Kind.USAGE_BILLED: (usage_per_period, billed_usage_per_period),
    Kind.DEALS_CONTRACTS: (external_records("deal", "CRM closed-won deals"), active_contracts),
}

SIDE_LABELS: dict[str, tuple[str, str]] = {
    Kind.INVOICES_ERP: ("Billing invoices", "ERP invoices"),
    Kind.PAYMENTS_INVOICES: ("Gateway payments", "Invoices"),
    Kind.CASH_APPLICATION: ("Bank entries", "Invoices"),
    Kind.USAGE_BILLED: ("Metered usage", "Billed usage"),
    Kind.DEALS_CONTRACTS: ("CRM closed-won deals", "Active contracts"),
}


def sides_for(kind: str) -> tuple[Callable[[int, Scope], SideSource], Callable[[int, Scope], SideSource]]:
    if kind == Kind.CASH_APPLICATION:
        from reconciliation.cash import bank_entries

        return bank_entries, open_invoices
    return SIDES[kind]
