"""ISO 20022 cash-management messages: camt.052 (account report), camt.053
(statement) and camt.054 (debit/credit notification), any version.

The XML is read through defusedxml (no entities, no external references).
Elements are found by local name, so every version's namespace reads the same.
"""

from __future__ import annotations

import datetime as dt
import re
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from reconciliation.statements.parsers.types import (
    BOOKED,
    CAMT_052,
    CAMT_053,
    CAMT_054,
    CREDIT,
    DEBIT,
    PENDING,
    Balance,
    Entry,
    Statement,
    StatementParseError,
)

NAMESPACE_RE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.\d{2}$")
# Message root → (format, element holding one statement/report/notification).
MESSAGES = {
    "BkToCstmrAcctRpt": (CAMT_052, "Rpt"),
    "BkToCstmrStmt": (CAMT_053, "Stmt"),
    "BkToCstmrDbtCdtNtfctn": (CAMT_054, "Ntfctn"),
}
OPENING_CODES = ("OPBD", "PRCD")  # opening booked; previously closed booked
CLOSING_CODES = ("CLBD", "ITBD")  # closing booked; interim booked (intraday reports)
STATUSES = {"BOOK": BOOKED, "PDNG": PENDING, "INFO": PENDING}
NOT_PROVIDED = "NOTPROVIDED"


def parse(content: bytes) -> list[Statement]:
    root = _document(content)
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    match = NAMESPACE_RE.match(namespace)
    if not match:
        raise StatementParseError(
            f"The XML namespace {namespace or '(none)'!r} is not an ISO 20022 camt.052, camt.053 or camt.054 "
            "message; expected urn:iso:std:iso:20022:tech:xsd:camt.05x.001.nn."
        )
    message = next(iter(root), None)
    if message is None or _local(message.tag) not in MESSAGES:
        found = _local(message.tag) if message is not None else "nothing"
        raise StatementParseError(
            f"<Document> holds <{found}>; expected <{'>, <'.join(MESSAGES)}> for camt.{match.group(1)}."
        )
    fmt, element = MESSAGES[_local(message.tag)]
    created = _date(_text(message, "GrpHdr/CreDtTm"))
    blocks = _all(message, element)
    if not blocks:
        raise StatementParseError(f"<{_local(message.tag)}> holds no <{element}>: the file has no statement.")
    return [_statement(block, fmt, element, index, created) for index, block in enumerate(blocks, 1)]


class _LineTreeBuilder(TreeBuilder):
    """Notes the line each element starts on, so a message can name it."""

    def __init__(self):
        super().__init__()
        self.expat = None
        self.lines: dict[int, int] = {}
        self.elements: list[Element] = []  # kept alive so their ids stay theirs

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        self.lines[id(element)] = self.expat.CurrentLineNumber if self.expat is not None else 0
        self.elements.append(element)
        return element


# The line of each element of the document being read, for messages.
_LINES: ContextVar[dict[int, int] | None] = ContextVar("camt_lines", default=None)


def _line(node: Element) -> str:
    line = (_LINES.get() or {}).get(id(node))
    return f"Line {line}: " if line else ""


def _document(content: bytes) -> Element:
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder)
    builder.expat = parser.parser
    _LINES.set(builder.lines)
    try:
        parser.feed(content)
        return parser.close()
    except ParseError as exc:
        line, column = exc.position
        raise StatementParseError(
            f"Line {line}, column {column + 1}: the XML is not well-formed ({_reason(exc)})."
        ) from None
    except LookupError as exc:
        raise StatementParseError(
            f"The XML declares a character encoding that cannot be read ({exc})."
        ) from None
    except DefusedXmlException as exc:
        raise StatementParseError(f"The XML uses a construct refused for safety ({exc}).") from None


def _reason(exc: ParseError) -> str:
    return str(exc).split(":")[0]


def _statement(block: Element, fmt: str, element: str, index: int, created: dt.date | None) -> Statement:
    where = f"{_line(block)}<{element}> {index}"
    statement_id = _text(block, "Id")
    if not statement_id:
        raise StatementParseError(f"{where}: <Id> is missing; every statement needs the bank's id.")
    where = f"<{element}> {index} ({statement_id})"
    account = _text(block, "Acct/Id/IBAN") or _text(block, "Acct/Id/Othr/Id")
    if not account:
        raise StatementParseError(f"{_line(block)}{where}: <Acct><Id> has neither <IBAN> nor <Othr><Id>.")
    balances = _balances(block, where)
    currency = (
        _text(block, "Acct/Ccy")
        or next((b[1] for b in balances.values()), "")
        or _first_entry_currency(block)
    )
    if not currency:
        raise StatementParseError(
            f"{_line(block)}{where}: no currency: <Acct><Ccy>, a balance or an entry amount must name it."
        )
    entries = [
        _entry(node, f"{_line(node)}{where}, <Ntry> {number}", currency)
        for number, node in enumerate(_all(block, "Ntry"), 1)
    ]
    start = _date(_text(block, "FrToDt/FrDtTm") or _text(block, "FrToDt/FrDt"), f"{where}, <FrToDt>")
    end = _date(_text(block, "FrToDt/ToDtTm") or _text(block, "FrToDt/ToDt"), f"{where}, <FrToDt>")
    opening = _pick(balances, OPENING_CODES)
    closing = _pick(balances, CLOSING_CODES)
    booking_dates = [e.booking_date for e in entries if e.booking_date]
    start = start or (opening.date if opening else None) or (min(booking_dates) if booking_dates else None)
    end = end or (closing.date if closing else None) or (max(booking_dates) if booking_dates else None)
    return Statement(
        format=fmt,
        account=account,
        currency=currency,
        statement_id=statement_id,
        sequence=_text(block, "ElctrncSeqNb") or _text(block, "LglSeqNb"),
        period_start=start or created,
        period_end=end or created,
        opening_booked=opening,
        closing_booked=closing,
        closing_available=_pick(balances, ("CLAV",)),
        forward_available=_pick(balances, ("FWAV",)),
        entries=entries,
    )


def _balances(block: Element, where: str) -> dict[str, tuple[Balance, str]]:
    found: dict[str, tuple[Balance, str]] = {}
    for number, node in enumerate(_all(block, "Bal"), 1):
        code = _text(node, "Tp/CdOrPrtry/Cd") or _text(node, "Tp/CdOrPrtry/Prtry")
        place = f"{_line(node)}{where}, <Bal> {number} ({code or 'no type'})"
        amount, currency = _amount(node, place)
        sign = _direction(node, place)
        date = _date(_text(node, "Dt/Dt") or _text(node, "Dt/DtTm"), f"{place}, <Dt>")
        # The first balance of a type counts; later ones (per value date) are detail.
        found.setdefault(code, (Balance(amount if sign == CREDIT else -amount, date), currency))
    return {code: value for code, value in found.items()}


def _pick(balances: dict[str, tuple[Balance, str]], codes: tuple[str, ...]) -> Balance | None:
    for code in codes:
        if code in balances:
            return balances[code][0]
    return None


def _first_entry_currency(block: Element) -> str:
    node = _find(block, "Ntry/Amt")
    return (node.get("Ccy") or "").strip().upper() if node is not None else ""


def _entry(node: Element, where: str, currency: str) -> Entry:
    amount, entry_currency = _amount(node, where)
    direction = _direction(node, where)
    status_code = _text(node, "Sts/Cd") or _text(node, "Sts")
    if status_code not in STATUSES:
        raise StatementParseError(
            f"{where}: <Sts> is {status_code or 'missing'!r}; expected BOOK, PDNG or INFO."
        )
    details = _all(node, "NtryDtls/TxDtls")
    single = details[0] if len(details) == 1 else None
    entry = Entry(
        booking_date=_date(_text(node, "BookgDt/Dt") or _text(node, "BookgDt/DtTm"), f"{where}, <BookgDt>"),
        value_date=_date(_text(node, "ValDt/Dt") or _text(node, "ValDt/DtTm"), f"{where}, <ValDt>"),
        amount=amount,
        direction=direction,
        currency=entry_currency or currency,
        status=STATUSES[status_code],
        bank_reference=_text(node, "AcctSvcrRef") or _text(node, "NtryRef"),
        bank_transaction_code=_transaction_code(node),
        remittance_info=_text(node, "AddtlNtryInf"),
        raw={
            "status": status_code,
            "reversal": _text(node, "RvslInd") == "true",
            "transactions": [_transaction_raw(tx) for tx in details],
        },
    )
    if single is not None:
        _apply_transaction(entry, single)
    return entry


def _apply_transaction(entry: Entry, tx: Element) -> None:
    end_to_end = _text(tx, "Refs/EndToEndId")
    entry.end_to_end_id = "" if end_to_end == NOT_PROVIDED else end_to_end
    entry.bank_reference = entry.bank_reference or _text(tx, "Refs/AcctSvcrRef")
    entry.structured_reference = _text(tx, "RmtInf/Strd/CdtrRefInf/Ref")
    unstructured = " ".join(text for text in _texts(tx, "RmtInf/Ustrd") if text)
    entry.remittance_info = unstructured or _text(tx, "AddtlTxInf") or entry.remittance_info
    party = "Dbtr" if entry.direction == CREDIT else "Cdtr"
    entry.counterparty_name = _text(tx, f"RltdPties/{party}/Nm") or _text(tx, f"RltdPties/{party}/Pty/Nm")
    entry.counterparty_account = _text(tx, f"RltdPties/{party}Acct/Id/IBAN") or _text(
        tx, f"RltdPties/{party}Acct/Id/Othr/Id"
    )
    entry.bank_transaction_code = entry.bank_transaction_code or _transaction_code(tx)


def _transaction_raw(tx: Element) -> dict[str, str]:
    values = {
        "end_to_end_id": _text(tx, "Refs/EndToEndId"),
        "bank_reference": _text(tx, "Refs/AcctSvcrRef"),
        "structured_reference": _text(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
        "remittance_info": " ".join(_texts(tx, "RmtInf/Ustrd")),
        "debtor": _text(tx, "RltdPties/Dbtr/Nm") or _text(tx, "RltdPties/Dbtr/Pty/Nm"),
        "creditor": _text(tx, "RltdPties/Cdtr/Nm") or _text(tx, "RltdPties/Cdtr/Pty/Nm"),
    }
    amount = _find(tx, "Amt") or _find(tx, "AmtDtls/TxAmt/Amt")
    if amount is not None and amount.text:
        values["amount"] = amount.text.strip()
        values["currency"] = amount.get("Ccy", "")
    return {key: value for key, value in values.items() if value}


def _transaction_code(node: Element) -> str:
    domain = [
        _text(node, "BkTxCd/Domn/Cd"),
        _text(node, "BkTxCd/Domn/Fmly/Cd"),
        _text(node, "BkTxCd/Domn/Fmly/SubFmlyCd"),
    ]
    if all(domain):
        return "/".join(domain)
    return _text(node, "BkTxCd/Prtry/Cd")


def _amount(node: Element, where: str) -> tuple[Decimal, str]:
    amount = _find(node, "Amt")
    if amount is None:
        amount = _find(node, "Amt/Amt")  # some versions nest the amount once more
    if amount is None or not (amount.text or "").strip():
        raise StatementParseError(f"{where}: <Amt> is missing.")
    try:
        value = Decimal(amount.text.strip())
    except InvalidOperation:
        raise StatementParseError(f"{where}: <Amt> {amount.text.strip()!r} is not a number.") from None
    if value < 0:
        raise StatementParseError(f"{where}: <Amt> is negative; camt amounts are positive with <CdtDbtInd>.")
    return value, (amount.get("Ccy") or "").strip().upper()


def _direction(node: Element, where: str) -> str:
    indicator = _text(node, "CdtDbtInd")
    if indicator == "CRDT":
        return CREDIT
    if indicator == "DBIT":
        return DEBIT
    raise StatementParseError(f"{where}: <CdtDbtInd> is {indicator or 'missing'!r}; expected CRDT or DBIT.")


def _date(value: str, where: str = "") -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        prefix = f"{where}: " if where else ""
        raise StatementParseError(f"{prefix}{value!r} is not an ISO date (YYYY-MM-DD).") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _path(path: str) -> str:
    return "/".join(f"{{*}}{part}" for part in path.split("/"))


def _find(node: Element, path: str) -> Element | None:
    return node.find(_path(path))


def _all(node: Element, path: str) -> list[Element]:
    return node.findall(_path(path))


def _text(node: Element, path: str) -> str:
    found = _find(node, path)
    return (found.text or "").strip() if found is not None else ""


def _texts(node: Element, path: str) -> list[str]:
    return [(found.text or "").strip() for found in _all(node, path)]
