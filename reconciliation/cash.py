"""Cash application: bank statement credits ⇄ invoices.

The bank side is read from the statements' tables (`statements.BankEntry`,
credits of statements marked reconcilable): the entry's value date (booking
date when the bank gives none), amount and currency; the customer is found by
the counterparty's name, compared loosely with customers' names. A payer
names invoices anywhere — structured reference, end-to-end id, free
remittance text, sometimes several at once — so every invoice-like word of
those fields is a reference (`remittance_tokens`), which is what lets one
credit pay several invoices (a 1:N rule).

`CASH_RULES` are the ranked rules a new cash-application reconciliation starts
with; the seeded generator and scorer (`reconciliation.scoring`) measure them.
"""

# The statement is put together from constant fragments; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import re
from decimal import Decimal

from reconciliation import sql
from reconciliation.sources import Scope, SideSource, Statement, select
from reconciliation.statements.models import batch_transactions

# An invoice number as payers write it: letters, then groups of letters and
# digits, ending in digits (INV-000123, inv 000123, INV-DE01-000023,
# RE/2026/0042); normalised like references before comparing.
INVOICE_WORD = re.compile(r"\b[A-Z]{2,5}(?:[-/.]?[A-Z]{0,4}\d{1,4})*[-/. ]?\d{3,}\b", re.IGNORECASE)


def remittance_tokens(*texts: str) -> list[str]:
    """Every invoice-like word of a payment's texts, normalised, without repeats."""
    tokens: list[str] = []
    for text in texts:
        for match in INVOICE_WORD.finditer(text or ""):
            token = sql.normalise_reference(match.group(0))
            if token not in tokens:
                tokens.append(token)
    return tokens


def bank_entries(side: int, scope: Scope) -> SideSource:
    entity = ""
    params: list = [side, scope.date_from, scope.date_to]
    if scope.legal_entity_id is not None:
        entity = " AND (st.legal_entity_id IS NULL OR st.legal_entity_id = %s)"
        params.append(scope.legal_entity_id)
    name = sql.normalised("c.name")
    return SideSource(
        "Bank entries",
        Statement(
            f"""{
                select(
                    "%s",
                    sql.as_text("e.id"),
                    "e.id",
                    "COALESCE(NULLIF(e.structured_reference, ''), e.end_to_end_id)",
                    "COALESCE(payer.number, '')",
                    "COALESCE(e.value_date, e.booking_date)",
                    "e.amount",
                    "0",
                    "e.currency",
                    "e.status",
                )
            }
            FROM statements_bankentry e JOIN statements_bankstatement st ON st.id = e.statement_id
            LEFT JOIN (
                SELECT {name} AS name_key, MIN(c.number) AS number FROM revops_customer c GROUP BY {name}
            ) payer ON payer.name_key = {sql.normalised("e.counterparty_name")}
            WHERE st.reconcilable AND e.direction = 'credit'
              AND COALESCE(e.value_date, e.booking_date) BETWEEN %s AND %s{entity}""",
            params,
        ),
        python_tokens=_entry_tokens,
    )


def _entry_tokens(cursor, side: int) -> list[tuple[int, int, str]]:
    """(row id, side, token) for every invoice-like word of the bank entries loaded,
    those of each transaction of a batch entry included."""
    cursor.execute(
        """SELECT s.row_id, e.structured_reference, e.end_to_end_id, e.remittance_info, e.bank_reference, e.raw
        FROM recon_side s JOIN statements_bankentry e ON e.id = s.source_id WHERE s.side = %s""",
        [side],
    )
    return [
        (row_id, side, token)
        for row_id, *texts, raw in cursor.fetchall()
        for token in remittance_tokens(*texts, *_batch_texts(raw))
    ]


def _batch_texts(raw) -> list[str]:
    """A batch entry names no invoice itself; each of its transactions may."""
    return [text for tx in batch_transactions(raw) for text in (tx["references"], tx["remittance_info"])]


# The ranked rules a cash-application reconciliation starts with.
CASH_RULES: list[dict] = [
    {
        "position": 10,
        "name": "Invoice named, amount to the cent",
        "method": "exact_reference",
        "amount_tolerance": Decimal("0.02"),
    },
    {
        "position": 20,
        "name": "Several invoices named, paid together",
        "method": "exact_reference",
        "cardinality": "1:N",
        "amount_tolerance": Decimal("0.02"),
    },
    {
        "position": 30,
        "name": "Invoice named, bank fee deducted",
        "method": "exact_reference",
        "amount_tolerance": Decimal("25"),
    },
    {
        "position": 40,
        "name": "Invoice named, partial or over payment",
        "method": "exact_reference",
        "tolerance_percent": Decimal("75"),
        "action": "suggest",
    },
    {
        "position": 50,
        "name": "Same customer and amount, within 5 days",
        "method": "amount_customer_date",
        "date_window_days": 5,
        "amount_tolerance": Decimal("0.02"),
        "action": "suggest",
    },
    {
        "position": 60,
        "name": "Same customer, several invoices, within 10 days",
        "method": "amount_customer_date",
        "cardinality": "1:N",
        "date_window_days": 10,
        "amount_tolerance": Decimal("0.02"),
        "action": "suggest",
    },
]
