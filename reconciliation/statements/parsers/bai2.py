"""BAI2 cash-management balance reporting files (version 2).

A file is 01 (file header), then per group 02 … 98, per account 03 … 49, with
16 transaction details and 88 continuations of the record before them; 99 ends
the file. Records end with `/` or with the line (both are found in the wild, and
several `/`-terminated records may share a line). Amounts are in the currency's
minor units. The control totals of every account (49), group (98) and the file
(99) are checked, amounts carried in 88 continuations included, together with
their record counts: a file whose totals disagree is incomplete or corrupt.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from reconciliation.statements.parsers.types import (
    BAI2,
    CREDIT,
    DEBIT,
    Balance,
    Entry,
    Statement,
    StatementParseError,
)
from revops.money import CURRENCY_EXPONENTS

DEFAULT_CURRENCY = "USD"  # BAI2: an omitted currency is the originator's, US dollars
RECORD_START = re.compile(r"(\d\d),")
# A new record may start after a `/` and blanks on the same line.
PACKED_START = re.compile(r"/\s+(?=\d\d,)")
MALFORMED_START = re.compile(r"^\d\d[^\d,]")
OPENING_LEDGER, CLOSING_LEDGER, CLOSING_AVAILABLE = "010", "015", "045"
CODES = {"01", "02", "03", "16", "49", "88", "98", "99"}


@dataclass
class Record:
    code: str
    line: int
    parts: list[str]  # the record's text, then each 88 continuation
    terminated: list[bool]  # whether each part ended with "/"
    physical: int = 1  # records in the file, continuations included

    def body(self, text_from: int | None = None) -> str:
        """The record with its continuations. After a `/` a continuation starts a
        new field, unless the record has reached its free-text field (index
        `text_from`), which a continuation simply goes on with."""
        text = self.parts[0]
        for previous_ended, part in zip(self.terminated, self.parts[1:], strict=False):
            in_text = text_from is not None and text.count(",") >= text_from
            text += ("," if previous_ended and not in_text else " ") + part
        return text

    def fields(self) -> list[str]:
        return [value.strip() for value in self.body().split(",")]

    @property
    def where(self) -> str:
        return f"Line {self.line}, record {self.code}"


@dataclass
class _Account:
    record: Record
    statement: Statement
    exponent: int
    total: int = 0
    records: int = 1


@dataclass
class _Group:
    record: Record
    currency: str
    as_of: dt.date
    total: int = 0
    records: int = 1
    accounts: int = 0
    account_totals: int = 0
    statements: list[Statement] = field(default_factory=list)


def parse(content: bytes) -> list[Statement]:
    return _Reader(_records(_lines(content))).read()


def _lines(content: bytes) -> list[str]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    return text.splitlines()


def _records(lines: list[str]) -> list[Record]:
    """Physical records with their line numbers, 88s merged into the record they continue."""
    records: list[Record] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        stripped = line.strip()
        if not RECORD_START.match(stripped):
            if MALFORMED_START.match(stripped):
                raise StatementParseError(
                    f"Line {number}: {stripped[:20]!r} is not a BAI2 record: a two-digit record code must be "
                    "followed by a comma."
                )
            if not records:
                raise StatementParseError(
                    f"Line {number}: expected a BAI2 record (a two-digit code and a comma), found {stripped[:20]!r}."
                )
            # A line broken inside a record's text: it goes on with the text.
            last = records[-1]
            last.parts[-1] = f"{last.parts[-1]} {stripped}"
            last.terminated[-1] = False
            _end(last)
            continue
        for chunk in PACKED_START.split(stripped):
            code, body = chunk[:2], chunk[3:]
            if code not in CODES:
                raise StatementParseError(
                    f"Line {number}: record code {code} is not a BAI2 record; expected one of "
                    f"{', '.join(sorted(CODES))}."
                )
            if code == "88":
                if not records or records[-1].code in ("98", "99"):
                    raise StatementParseError(
                        f"Line {number}: a continuation (88) with no record to continue."
                    )
                records[-1].parts.append(body)
                records[-1].terminated.append(False)
                records[-1].physical += 1
                _end(records[-1])
                continue
            record = Record(code, number, [body], [False])
            _end(record)
            records.append(record)
    if not records:
        raise StatementParseError("The file is empty: a BAI2 file starts with a file header (record 01).")
    return records


def _end(record: Record) -> None:
    """Strip the `/` that ends the last part, remembering it was there."""
    part = record.parts[-1].rstrip()
    if part.endswith("/"):
        record.parts[-1] = part[:-1]
        record.terminated[-1] = True
    else:
        record.parts[-1] = part


class _Reader:
    def __init__(self, records: list[Record]):
        self.records = records
        self.statements: list[Statement] = []
        self.file_total = 0
        self.file_records = 0
        self.groups = 0

    def read(self) -> list[Statement]:
        records = iter(self.records)
        header = next(records)
        if header.code != "01":
            raise StatementParseError(
                f"{header.where}: a BAI2 file starts with a file header (record 01), found record {header.code}."
            )
        fields = header.fields()
        if len(fields) < 5:
            raise StatementParseError(
                f"{header.where}: the file header needs sender, receiver, date, time and file id."
            )
        self.file_id = f"{fields[0]}:{fields[2]}:{fields[4]}"
        self.file_records = header.physical
        group: _Group | None = None
        account: _Account | None = None
        ended = False
        for record in records:
            if ended:
                raise StatementParseError(f"{record.where}: nothing may follow the file trailer (99).")
            self.file_records += record.physical
            if group is not None:
                group.records += record.physical
            if account is not None:
                account.records += record.physical
            code = record.code
            if code == "02":
                if group is not None:
                    raise StatementParseError(
                        f"{record.where}: a group header before the group trailer (98) of the group at line {group.record.line}."
                    )
                group = self._group(record)
            elif code == "03":
                if group is None or account is not None:
                    raise StatementParseError(
                        f"{record.where}: an account header (03) must follow a group header (02) or an account trailer (49)."
                    )
                account = self._account(record, group)
            elif code == "16":
                if account is None:
                    raise StatementParseError(
                        f"{record.where}: a transaction detail (16) outside an account (03 … 49)."
                    )
                self._detail(record, account, group)
            elif code == "49":
                if account is None:
                    raise StatementParseError(
                        f"{record.where}: an account trailer (49) without its account header (03)."
                    )
                self._close_account(record, account, group)
                account = None
            elif code == "98":
                if group is None or account is not None:
                    raise StatementParseError(
                        f"{record.where}: a group trailer (98) must follow an account trailer (49)."
                    )
                self._close_group(record, group)
                group = None
            elif code == "99":
                if group is not None:
                    raise StatementParseError(
                        f"{record.where}: the file trailer (99) before the group trailer (98) of the group at line {group.record.line}."
                    )
                self._close_file(record)
                ended = True
            else:
                raise StatementParseError(f"{record.where}: a second file header (01).")
        if not ended:
            last = self.records[-1]
            raise StatementParseError(
                f"The file ends at line {last.line} without its file trailer (99): it is incomplete."
            )
        return self.statements

    def _group(self, record: Record) -> _Group:
        fields = record.fields()
        if len(fields) < 4:
            raise StatementParseError(
                f"{record.where}: the group header needs receiver, originator, status and as-of date."
            )
        currency = fields[5].upper() if len(fields) > 5 and fields[5] else DEFAULT_CURRENCY
        return _Group(record, currency, _date(fields[3], record, "as-of date"), records=record.physical)

    def _account(self, record: Record, group: _Group) -> _Account:
        fields = record.fields()
        if not fields or not fields[0]:
            raise StatementParseError(f"{record.where}: the account header has no account number.")
        currency = (fields[1].upper() if len(fields) > 1 and fields[1] else "") or group.currency
        exponent = _exponent(currency, record)
        group.accounts += 1
        statement = Statement(
            format=BAI2,
            account=fields[0],
            currency=currency,
            statement_id=f"{self.file_id}:{self.groups + 1}:{group.accounts}",
            sequence=self.file_id.rsplit(":", 1)[-1],
            period_start=group.as_of,
            period_end=group.as_of,
        )
        account = _Account(record, statement, exponent, records=record.physical)
        summaries = fields[2:]
        index = 0
        while index < len(summaries):
            type_code = summaries[index]
            amount_text = summaries[index + 1] if index + 1 < len(summaries) else ""
            funds = summaries[index + 3] if index + 3 < len(summaries) else ""
            index += 4 + _funds_extra(funds, summaries[index + 4 :], record)
            if not type_code:
                continue
            amount = _minor(amount_text, record, f"the amount of summary {type_code}") if amount_text else 0
            account.total += amount
            balance = Balance(_major(amount, exponent), group.as_of)
            if type_code == OPENING_LEDGER:
                statement.opening_booked = balance
            elif type_code == CLOSING_LEDGER:
                statement.closing_booked = balance
            elif type_code == CLOSING_AVAILABLE:
                statement.closing_available = balance
        return account

    def _detail(self, record: Record, account: _Account, group: _Group) -> None:
        head = record.parts[0].split(",")
        funds_extra = (
            _funds_extra(head[2].strip(), [v.strip() for v in head[3:]], record) if len(head) > 2 else 0
        )
        fields = record.body(text_from=5 + funds_extra).split(",")
        if len(fields) < 3:
            raise StatementParseError(
                f"{record.where}: a transaction detail needs a type code, an amount and a funds type."
            )
        type_code, amount_text, funds = fields[0].strip(), fields[1].strip(), fields[2].strip()
        extra = _funds_extra(funds, [value.strip() for value in fields[3:]], record)
        value_date = group.as_of
        if funds.upper() == "V" and len(fields) > 3 and fields[3].strip():
            value_date = _date(fields[3].strip(), record, "value date")
        rest = fields[3 + extra :]
        bank_ref = rest[0].strip() if rest else ""
        customer_ref = rest[1].strip() if len(rest) > 1 else ""
        text = ",".join(rest[2:]).strip() if len(rest) > 2 else ""
        if not type_code.isdigit() or len(type_code) != 3:
            raise StatementParseError(f"{record.where}: the type code {type_code!r} is not three digits.")
        code = int(type_code)
        if 100 <= code <= 399:
            direction = CREDIT
        elif 400 <= code <= 699:
            direction = DEBIT
        else:
            raise StatementParseError(
                f"{record.where}: type code {type_code} is neither a credit (100–399) nor a debit (400–699)."
            )
        amount = _minor(amount_text, record, "the amount") if amount_text else 0
        if amount < 0:
            raise StatementParseError(
                f"{record.where}: a transaction amount is unsigned; found {amount_text}."
            )
        account.total += amount
        account.statement.entries.append(
            Entry(
                booking_date=group.as_of,
                value_date=value_date,
                amount=_major(amount, account.exponent),
                direction=direction,
                currency=account.statement.currency,
                end_to_end_id=customer_ref,
                bank_reference=bank_ref,
                remittance_info=" ".join(text.split()),
                bank_transaction_code=type_code,
                raw={"line": record.line, "type_code": type_code, "funds_type": funds, "text": text},
            )
        )

    def _close_account(self, record: Record, account: _Account, group: _Group) -> None:
        fields = record.fields()
        number = account.statement.account
        total = _minor(fields[0] if fields else "", record, "the account control total")
        if total != account.total:
            raise StatementParseError(
                f"{record.where}: the account control total of account {number} is "
                f"{_major(total, account.exponent)}, but its balances and transactions (88 continuations "
                f"included) add up to {_major(account.total, account.exponent)}."
            )
        _check_count(fields, 1, account.records, record, f"account {number}")
        group.total += account.total
        group.account_totals += total
        group.statements.append(account.statement)

    def _close_group(self, record: Record, group: _Group) -> None:
        fields = record.fields()
        total = _minor(fields[0] if fields else "", record, "the group control total")
        if total != group.account_totals:
            raise StatementParseError(
                f"{record.where}: the group control total is {total}, but the account control totals of the "
                f"group at line {group.record.line} add up to {group.account_totals} (minor units)."
            )
        _check_count(fields, 1, group.accounts, record, "the group's accounts", noun="accounts")
        _check_count(fields, 2, group.records, record, f"the group at line {group.record.line}")
        self.file_total += total
        self.groups += 1
        self.statements.extend(group.statements)

    def _close_file(self, record: Record) -> None:
        fields = record.fields()
        total = _minor(fields[0] if fields else "", record, "the file control total")
        if total != self.file_total:
            raise StatementParseError(
                f"{record.where}: the file control total is {total}, but the group control totals add up to "
                f"{self.file_total} (minor units)."
            )
        _check_count(fields, 1, self.groups, record, "the file's groups", noun="groups")
        _check_count(fields, 2, self.file_records, record, "the file")


def _check_count(
    fields: list[str], index: int, actual: int, record: Record, what: str, noun: str = "records"
) -> None:
    if len(fields) <= index or not fields[index]:
        return  # counts are optional in some banks' files
    if not fields[index].isdigit():
        raise StatementParseError(f"{record.where}: the number of {noun} {fields[index]!r} is not a number.")
    if int(fields[index]) != actual:
        raise StatementParseError(
            f"{record.where}: the trailer counts {fields[index]} {noun} for {what}, but the file has {actual}."
        )


def _funds_extra(funds: str, following: list[str], record: Record) -> int:
    """How many fields the funds type's details take after it."""
    funds = funds.upper()
    if funds == "S":
        return 3
    if funds == "V":
        return 2
    if funds == "D":
        count = following[0] if following else ""
        if not count.isdigit():
            raise StatementParseError(
                f"{record.where}: funds type D must be followed by the number of distributions."
            )
        return 1 + 2 * int(count)
    if funds in ("", "0", "1", "2", "Z"):
        return 0
    raise StatementParseError(f"{record.where}: funds type {funds!r} is not one of 0, 1, 2, S, V, D or Z.")


def _minor(text: str, record: Record, what: str) -> int:
    value = text.strip()
    digits = value[1:] if value[:1] in "+-" else value
    if not digits.isdigit():
        raise StatementParseError(
            f"{record.where}: {what} {text.strip()!r} is not a whole number of minor units."
        )
    return int(value)


def _major(minor: int, exponent: int) -> Decimal:
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def _exponent(currency: str, record: Record) -> int:
    if currency not in CURRENCY_EXPONENTS:
        raise StatementParseError(
            f"{record.where}: currency {currency!r} is not one revops knows, so its decimals cannot be read."
        )
    return CURRENCY_EXPONENTS[currency]


def _date(text: str, record: Record, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%y%m%d").date()
    except ValueError:
        raise StatementParseError(f"{record.where}: the {what} {text!r} is not a date (YYMMDD).") from None
