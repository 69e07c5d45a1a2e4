"""What every statement parser produces, whatever the bank's format: statements
with their balances and entries, in plain dataclasses the import service stores.

Amounts are Decimals. An entry's amount is positive and its direction says which
way the money moved; balances are signed (a debit balance is negative).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CREDIT = "credit"
DEBIT = "debit"
BOOKED = "booked"
PENDING = "pending"

# Formats, as stored on the statement.
CAMT_052 = "camt.052"
CAMT_053 = "camt.053"
CAMT_054 = "camt.054"
BAI2 = "bai2"
MT940 = "mt940"
MT942 = "mt942"
FORMATS = (CAMT_052, CAMT_053, CAMT_054, BAI2, MT940, MT942)

ZERO = Decimal("0")


class StatementParseError(ValueError):
    """A file that cannot be read as a bank statement. The message names where
    (line, record or element) and what was expected there."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Balance:
    amount: Decimal  # signed: negative when the bank reports a debit balance
    date: dt.date | None = None


@dataclass
class Entry:
    booking_date: dt.date | None
    value_date: dt.date | None
    amount: Decimal  # positive
    direction: str  # CREDIT or DEBIT
    currency: str
    status: str = BOOKED
    end_to_end_id: str = ""
    bank_reference: str = ""
    structured_reference: str = ""
    remittance_info: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    bank_transaction_code: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == CREDIT else -self.amount


@dataclass
class Statement:
    format: str
    account: str
    currency: str
    statement_id: str
    sequence: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    opening_booked: Balance | None = None
    closing_booked: Balance | None = None
    closing_available: Balance | None = None
    forward_available: Balance | None = None
    entries: list[Entry] = field(default_factory=list)

    def booked_entries(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == BOOKED]

    @property
    def credit_total(self) -> Decimal:
        return sum((e.amount for e in self.booked_entries() if e.direction == CREDIT), ZERO)

    @property
    def debit_total(self) -> Decimal:
        return sum((e.amount for e in self.booked_entries() if e.direction == DEBIT), ZERO)


@dataclass(frozen=True)
class BalanceCheck:
    """Whether opening + booked movements = closing. `balanced` is None when the
    bank reported no booked opening and closing balance to check against."""

    balanced: bool | None
    expected_closing: Decimal | None = None
    actual_closing: Decimal | None = None
    note: str = ""

    @property
    def difference(self) -> Decimal | None:
        if self.expected_closing is None or self.actual_closing is None:
            return None
        return self.actual_closing - self.expected_closing


def check_balance(statement: Statement) -> BalanceCheck:
    """Opening booked + booked credits − booked debits must equal closing booked.

    Some banks (PostFinance among them) compute the closing booked balance on
    value dates: an entry booked today but value-dated tomorrow is left out of it
    and shows in the forward available balance instead. Such a statement is
    balanced when leaving out exactly the entries value-dated after the closing
    date explains the difference."""
    opening, closing = statement.opening_booked, statement.closing_booked
    if opening is None or closing is None:
        return BalanceCheck(None, note="The file reports no booked opening and closing balance to check.")
    booked = statement.booked_entries()
    expected = opening.amount + sum((e.signed_amount for e in booked), ZERO)
    if expected == closing.amount:
        return BalanceCheck(True, expected, closing.amount)
    if closing.date is not None:
        later = [e for e in booked if e.value_date is not None and e.value_date > closing.date]
        if later:
            on_value_date = expected - sum((e.signed_amount for e in later), ZERO)
            if on_value_date == closing.amount:
                return BalanceCheck(
                    True,
                    on_value_date,
                    closing.amount,
                    note=(
                        f"The closing booked balance leaves out {len(later)} entr"
                        f"{'y' if len(later) == 1 else 'ies'} value-dated after {closing.date.isoformat()}; "
                        "the bank counts them in the forward available balance."
                    ),
                )
    return BalanceCheck(
        False,
        expected,
        closing.amount,
        note=(
            f"Opening balance {opening.amount} plus booked movements gives {expected}, "
            f"but the bank's closing balance is {closing.amount} (difference {closing.amount - expected})."
        ),
    )
