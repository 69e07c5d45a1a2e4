"""SWIFT MT940 (customer statement) and MT942 (interim transaction report).

A file may hold many statements, each `:20:` … `-`, with or without the SWIFT
envelope (`{1:…}{2:…}{4:` … `-}`) or a bank's header lines. Fields run until the
next tag; a `:86:` may be a German structured field (`?20`…) or `/KEY/` pairs,
else free text. MT942 has no balances: its `:90D:`/`:90C:` entry counts and sums
are checked instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from reconciliation.statements.parsers.mt940_details import apply_details
from reconciliation.statements.parsers.types import (
    CREDIT,
    DEBIT,
    MT940,
    MT942,
    Balance,
    Entry,
    Statement,
    StatementParseError,
)
from revops.money import CURRENCY_EXPONENTS

TAG = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
# A message ends with "-}", a dash and three X's, ETX, or a bare dash.
END = re.compile(r"^-(\}|X{3}|\x03|\s*$)")
BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d+(,\d*)?)$")
ENTRY = re.compile(
    r"^(?P<value_date>\d{6})(?P<entry_date>\d{4}|\s{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>\d+(,\d*)?)(?P<type>[NFS][A-Z0-9]{3})(?P<reference>.*?)(//(?P<bank_reference>.*))?$"
)
SUMMARY = re.compile(r"^(?P<count>\d+)(?P<currency>[A-Z]{3})(?P<amount>\d+(,\d*)?)$")
# What may follow each tag inside a statement; None ends the statement.
NEXT: dict[str, set[str | None]] = {
    "20": {"21", "25"},
    "21": {"25"},
    "25": {"28C", "28"},
    "28C": {"60F", "60M", "34F"},
    "28": {"60F", "60M", "34F"},
    "60F": {"61", "62F", "62M"},
    "60M": {"61", "62F", "62M"},
    "34F": {"34F", "13D", "13"},
    "13D": {"61", "90D", "90C", "86", None},
    "13": {"61", "90D", "90C", "86", None},
    "61": {"61", "86", "62F", "62M", "90D", "90C", None},
    "62F": {"64", "65", "86", None},
    "62M": {"64", "65", "86", None},
    "64": {"65", "86", None},
    "65": {"65", "86", None},
    "90D": {"90C", "86", None},
    "90C": {"86", None},
}
NAMES = {
    "20": "transaction reference",
    "25": "account",
    "28C": "statement number",
    "60F": "opening balance",
    "61": "statement line",
    "62F": "closing balance",
}


@dataclass
class Field:
    tag: str
    line: int
    lines: list[str]

    @property
    def first(self) -> str:
        return self.lines[0].strip()


@dataclass
class _Block:
    line: int
    fields: list[Field] = field(default_factory=list)


def parse(content: bytes) -> list[Statement]:
    blocks = _blocks(_lines(content))
    if not blocks:
        raise StatementParseError("No MT940/MT942 statement found: a statement starts with a :20: line.")
    return [_statement(block) for block in blocks]


def _lines(content: bytes) -> list[str]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    return text.replace("\x01", "").splitlines()


def _blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, raw in enumerate(lines, 1):
        line = _unwrap(raw)
        match = TAG.match(line)
        if match and match.group(1) == "20":
            current = _Block(number)
            blocks.append(current)
        if current is None:
            if match:
                raise StatementParseError(
                    f"Line {number}: :{match.group(1)}: before any :20:; a statement starts with :20:."
                )
            continue  # envelope or bank header lines before a statement
        if match:
            current.fields.append(Field(match.group(1), number, [match.group(2)]))
        elif END.match(line.strip()) or line.strip() == "-":
            current = None
        elif current.fields:
            current.fields[-1].lines.append(line)
    return blocks


def _unwrap(line: str) -> str:
    """Take a SWIFT envelope off the line: `{1:…}{2:…}{4:` before and `-}{5:…}` after."""
    if line.startswith("{1:"):
        tail = line.rsplit("{4:", 1)
        return tail[1] if len(tail) == 2 else ""
    return line.replace("\x03", "")


def _statement(block: _Block) -> Statement:
    _check_order(block)
    fields = block.fields
    get = {f.tag: f for f in reversed(fields)}  # the first of each tag
    reference = get["20"].first
    account = get["25"].first
    number = (get.get("28C") or get.get("28")).first
    opening_field = get.get("60F") or get.get("60M")
    fmt = MT940 if opening_field is not None else MT942
    statement = Statement(format=fmt, account=account, currency="", statement_id=reference, sequence=number)
    if fmt == MT940:
        closing_field = get.get("62F") or get.get("62M")
        opening, currency = _balance(opening_field)
        closing, closing_currency = _balance(closing_field)
        if closing_currency != currency:
            raise StatementParseError(
                f"Line {closing_field.line}: the closing balance is in {closing_currency}, the opening balance "
                f"(line {opening_field.line}) in {currency}; a statement has one currency."
            )
        statement.currency = currency
        statement.opening_booked, statement.closing_booked = opening, closing
        statement.period_start, statement.period_end = opening.date, closing.date
        if "64" in get:
            statement.closing_available = _balance(get["64"], currency)[0]
        if "65" in get:
            statement.forward_available = _balance(get["65"], currency)[0]
    else:
        statement.currency = _floor_currency(get["34F"])
        when = get.get("13D") or get.get("13")
        statement.period_start = statement.period_end = _date(when.first[:6], when) if when else None
    _entries(statement, fields)
    if fmt == MT942:
        _check_summaries(statement, get)
        if statement.period_end is None and statement.entries:
            statement.period_start = min(e.booking_date for e in statement.entries)
            statement.period_end = max(e.booking_date for e in statement.entries)
    return statement


def _check_order(block: _Block) -> None:
    fields = block.fields
    for required in ("25",):
        if not any(f.tag == required for f in fields):
            raise StatementParseError(
                f"The statement starting at line {block.line} has no :{required}: ({NAMES[required]})."
            )
    previous = fields[0]
    for current in fields[1:]:
        allowed = NEXT.get(previous.tag)
        if previous.tag == "86":
            allowed = {"61", "86", "62F", "62M", "90D", "90C", None}
        if allowed is None:
            raise StatementParseError(f"Line {previous.line}: :{previous.tag}: is not an MT940/MT942 field.")
        if current.tag not in allowed:
            expected = ", ".join(f":{tag}:" for tag in sorted(t for t in allowed if t))
            raise StatementParseError(
                f"Line {current.line}: :{current.tag}: cannot follow :{previous.tag}: (line {previous.line}) in the "
                f"statement starting at line {block.line}; expected {expected}."
            )
        previous = current
    last = fields[-1].tag
    tags = {f.tag for f in fields}
    statement = bool(tags & {"60F", "60M"})  # an MT940; an MT942 has no balances
    if (last != "86" and None not in NEXT.get(last, set())) or (statement and not tags & {"62F", "62M"}):
        raise StatementParseError(
            f"The statement starting at line {block.line} ends after :{last}: (line {fields[-1].line}) "
            "without its closing balance (:62F: or :62M:)."
        )


def _entries(statement: Statement, fields: list[Field]) -> None:
    current: Entry | None = None
    details: list[str] = []
    for item in fields:
        if item.tag in ("62F", "62M", "90D", "90C"):
            break  # an :86: after the closing balance is about the statement, not an entry
        if item.tag == "61":
            if current is not None:
                apply_details(current, details)
            current, details = _entry(item, statement), []
            statement.entries.append(current)
        elif item.tag == "86" and current is not None:
            details.extend(item.lines if not details else ["\n", *item.lines])
    if current is not None:
        apply_details(current, details)


def _entry(item: Field, statement: Statement) -> Entry:
    match = ENTRY.match(item.first)
    if not match:
        raise StatementParseError(
            f"Line {item.line}: the statement line :61:{item.first[:40]} does not read as value date (YYMMDD), "
            "optional entry date (MMDD), C/D/RC/RD mark, amount, transaction type (e.g. NTRF) and reference."
        )
    value_date = _date(match["value_date"], item)
    booking_date = value_date
    entry_date = (match["entry_date"] or "").strip()
    if entry_date:
        booking_date = _entry_date(value_date, entry_date, item)
    mark = match["mark"]
    # RC (reversal of a credit) takes money out; RD (reversal of a debit) puts it back.
    direction = CREDIT if mark in ("C", "RD", "EC") else DEBIT
    supplementary = " ".join(line.strip() for line in item.lines[1:] if line.strip())
    reference = match["reference"].strip()
    return Entry(
        booking_date=booking_date,
        value_date=value_date,
        amount=_amount(match["amount"], item, statement.currency),
        direction=direction,
        currency=statement.currency,
        end_to_end_id="" if reference.upper() == "NONREF" else reference,
        bank_reference=(match["bank_reference"] or "").strip(),
        bank_transaction_code=match["type"],
        raw={"line": item.line, "statement_line": item.first, "mark": mark, "supplementary": supplementary},
    )


def _entry_date(value_date: dt.date, mmdd: str, item: Field) -> dt.date:
    year = value_date.year
    month = int(mmdd[:2])
    # An entry booked in late December for a value date in early January, or the reverse.
    if month - value_date.month > 6:
        year -= 1
    elif value_date.month - month > 6:
        year += 1
    try:
        return dt.date(year, month, int(mmdd[2:]))
    except ValueError:
        raise StatementParseError(
            f"Line {item.line}: the entry date {mmdd!r} is not a date (MMDD)."
        ) from None


def _balance(item: Field, currency: str | None = None) -> tuple[Balance, str]:
    match = BALANCE.match(item.first.replace(" ", ""))
    if not match:
        raise StatementParseError(
            f"Line {item.line}: :{item.tag}:{item.first} does not read as C/D mark, date (YYMMDD), currency and "
            "amount (e.g. C200101EUR444,29)."
        )
    if currency is not None and match["currency"] != currency:
        raise StatementParseError(
            f"Line {item.line}: :{item.tag}: is in {match['currency']}, the statement in {currency}."
        )
    amount = _amount(match["amount"], item, match["currency"])
    return Balance(amount if match["mark"] == "C" else -amount, _date(match["date"], item)), match["currency"]


def _floor_currency(item: Field | None) -> str:
    if item is None:
        raise StatementParseError("An MT942 report needs :34F: (floor limit), which names its currency.")
    currency = item.first[:3]
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise StatementParseError(f"Line {item.line}: :34F:{item.first} does not start with a currency code.")
    return currency


def _check_summaries(statement: Statement, get: dict[str, Field]) -> None:
    for tag, direction in (("90D", DEBIT), ("90C", CREDIT)):
        item = get.get(tag)
        if item is None:
            continue
        match = SUMMARY.match(item.first)
        if not match:
            raise StatementParseError(
                f"Line {item.line}: :{tag}:{item.first} does not read as a count, a currency and an amount."
            )
        entries = [e for e in statement.entries if e.direction == direction]
        total = sum((e.amount for e in entries), Decimal("0"))
        count, amount = int(match["count"]), _amount(match["amount"], item, match["currency"])
        if count != len(entries) or amount != total:
            raise StatementParseError(
                f"Line {item.line}: :{tag}: reports {count} {direction}s for {amount}, but the report has "
                f"{len(entries)} for {total}."
            )


def _amount(text: str, item: Field, currency: str = "") -> Decimal:
    whole, _, fraction = text.partition(",")
    try:
        value = Decimal(f"{int(whole)}.{fraction or '0'}")
    except ValueError:
        raise StatementParseError(f"Line {item.line}: {text!r} is not an amount.") from None
    places = CURRENCY_EXPONENTS.get(currency, 2)
    if value != value.quantize(Decimal(1).scaleb(-places)) and places < -value.as_tuple().exponent:
        return value  # more decimals than the currency has: kept as given, never rounded
    return value.quantize(Decimal(1).scaleb(-places))


def _date(text: str, item: Field) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%y%m%d").date()
    except ValueError:
        raise StatementParseError(f"Line {item.line}: {text!r} is not a date (YYMMDD).") from None
