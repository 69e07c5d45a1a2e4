"""Importing a bank statement file: parse it (the format is told from the
content), store each statement and its entries with history, and open a
STATEMENT_UNBALANCED exception for any statement whose opening balance plus its
movements does not give its closing balance.

Importing the same file again, or a statement already imported from another
file, changes nothing: the file is known by its sha256 and a statement by
(account, bank statement id, period end), whatever the format. The one
exception is a statement stored unbalanced: a bank that finds its mistake
sends the statement again, corrected, under the same id and date, and that
version replaces the stored one (its entries too), with history saying so, and
resolves the STATEMENT_UNBALANCED item when it balances.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history

from exceptions_queue.codes import ExceptionCode, make_dedupe_key
from exceptions_queue.services import exception_open, exception_resolve_if_open
from reconciliation.statements.models import AMOUNT_PLACES, BankEntry, BankStatement, StatementFile
from reconciliation.statements.parsers import parse_statements
from reconciliation.statements.parsers.types import (
    BalanceCheck,
    Statement,
    StatementParseError,
    check_balance,
)
from revops.actors import Actor
from revops.models import LegalEntity
from revops.models.base import stamp

STEP_KEY = "statements.import"
SOURCE_SYSTEM = "bank"
DEFAULT_MAX_BYTES = 10 * 1_048_576
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
QUANTUM = Decimal(1).scaleb(-AMOUNT_PLACES)
ACCOUNT_MAX = BankStatement._meta.get_field("account").max_length


class StatementRefused(Exception):
    """A file that is not imported; `message` says why, for the person who sent it."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class StatementOutcome:
    statement: BankStatement
    created: bool
    exception_item_id: int | None = None
    # A corrected version that replaced a statement stored unbalanced.
    replaced: bool = False

    @property
    def stored(self) -> bool:
        """Whether this import wrote the statement (new, or a correction)."""
        return self.created or self.replaced

    def summary(self) -> dict[str, Any]:
        s = self.statement
        return {
            "id": s.pk,
            "format": s.format,
            "account": s.account,
            "currency": s.currency,
            "bank_statement_id": s.bank_statement_id,
            "period": [_iso(s.period_start), _iso(s.period_end)],
            "booked": {
                "opening": _money(s.opening_balance),
                "opening_date": _iso(s.opening_date),
                "closing": _money(s.closing_balance),
                "closing_date": _iso(s.closing_date),
            },
            "available": {
                "closing": _money(s.closing_available),
                "closing_date": _iso(s.closing_available_date),
                "forward": _money(s.forward_available),
                "forward_date": _iso(s.forward_available_date),
            },
            "entries": s.entry_count,
            "credits": _money(s.credit_total),
            "debits": _money(s.debit_total),
            "balanced": s.balanced,
            "balance_note": s.balance_note,
            "reconcilable": s.reconcilable,
            "new": self.created,
            "replaced": self.replaced,
            "exception_item": self.exception_item_id,
        }


@dataclass
class ImportResult:
    file: StatementFile
    created: bool
    statements: list[StatementOutcome] = field(default_factory=list)

    @property
    def new_statements(self) -> list[StatementOutcome]:
        return [outcome for outcome in self.statements if outcome.created]

    @property
    def replaced_statements(self) -> list[StatementOutcome]:
        return [outcome for outcome in self.statements if outcome.replaced]

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.file.original_name,
            "file_id": self.file.pk,
            "sha256": self.file.sha256,
            "format": self.file.format,
            "new_file": self.created,
            "statements": [outcome.summary() for outcome in self.statements],
        }


def file_size(size: int) -> str:
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def max_bytes() -> int:
    return getattr(settings, "REVOPS_STATEMENT_MAX_BYTES", DEFAULT_MAX_BYTES)


def statement_import(
    *, content: bytes, filename: str, actor: Actor, legal_entity: LegalEntity | None = None
) -> ImportResult:
    """Import one statement file. Raises StatementRefused (nothing stored) for a
    file that cannot be read, with the parser's message."""
    if len(content) > max_bytes():
        raise StatementRefused(
            f"The file is {file_size(len(content))}; statement files up to {file_size(max_bytes())} can be "
            "imported. Ask the bank for smaller files (one per day or per account).",
            status=413,
        )
    digest = hashlib.sha256(content).hexdigest()
    known = StatementFile.objects.filter(sha256=digest).first()
    if known is not None:
        return _already_imported(known)
    try:
        _family, parsed = parse_statements(content)
        for number, statement in enumerate(parsed, 1):
            _validate(statement, number)
    except StatementParseError as exc:
        raise StatementRefused(exc.message) from None
    name = (filename or "statement").strip()[-255:]

    def store() -> ImportResult:
        with transaction.atomic():
            return _store(
                parsed, name=name, digest=digest, size=len(content), actor=actor, entity=legal_entity
            )

    try:
        return store()
    except IntegrityError:
        known = StatementFile.objects.filter(sha256=digest).first()
        if known is not None:  # the same file, imported at this moment by someone else
            return _already_imported(known)
    # Another file holding one of these statements was imported at this moment: once
    # more, and that statement is found and left alone.
    return store()


def _already_imported(file: StatementFile) -> ImportResult:
    statement_ids = [entry["id"] for entry in file.summary.get("statements", [])]
    statements = BankStatement.objects.in_bulk(statement_ids)
    return ImportResult(
        file=file,
        created=False,
        statements=[
            StatementOutcome(statements[pk], created=False, exception_item_id=_open_item_id(statements[pk]))
            for pk in statement_ids
            if pk in statements
        ],
    )


def _validate(statement: Statement, number: int) -> None:
    where = f"Statement {number} ({statement.account or 'no account'}, {statement.statement_id or 'no id'})"
    if not statement.account:
        raise StatementParseError(f"{where}: the account is missing.")
    if len(statement.account) > ACCOUNT_MAX:
        raise StatementParseError(
            f"{where}: the account identifier has {len(statement.account)} characters; an IBAN or account "
            f"number has at most {ACCOUNT_MAX}."
        )
    if not CURRENCY_RE.match(statement.currency):
        raise StatementParseError(f"{where}: {statement.currency!r} is not an ISO 4217 currency code.")
    if statement.period_end is None:
        raise StatementParseError(f"{where}: the file gives no date for the statement.")
    amounts = [
        balance.amount
        for balance in (
            statement.opening_booked,
            statement.closing_booked,
            statement.closing_available,
            statement.forward_available,
        )
        if balance is not None
    ] + [entry.amount for entry in statement.entries]
    for amount in amounts:
        if amount != amount.quantize(QUANTUM):
            raise StatementParseError(
                f"{where}: the amount {amount} has more than {AMOUNT_PLACES} decimals, which revops does not store."
            )
        if abs(amount) >= Decimal(10) ** 16:
            raise StatementParseError(f"{where}: the amount {amount} is too large to be a bank amount.")
    for index, entry in enumerate(statement.entries, 1):
        if not CURRENCY_RE.match(entry.currency):
            raise StatementParseError(f"{where}, entry {index}: {entry.currency!r} is not a currency code.")


def _store(parsed: list[Statement], *, name, digest, size, actor, entity) -> ImportResult:
    file = StatementFile(
        original_name=name,
        sha256=digest,
        format=parsed[0].format,
        size=size,
        uploaded_by=actor.user,
        uploaded_by_label=actor.label,
    )
    stamp(file, actor, f"Imported {name}")
    file.save()
    result = ImportResult(file=file, created=True)
    seen: dict[tuple, BankStatement] = {}
    for statement in parsed:
        key = (statement.account, statement.statement_id, statement.period_end)
        existing = seen.get(key) or _existing_statement(*key)
        if existing is None:
            outcome = _create_statement(statement, file=file, actor=actor, entity=entity)
        elif key not in seen and _corrects(existing, statement):
            outcome = _replace_statement(existing, statement, file=file, actor=actor, entity=entity)
        else:
            outcome = StatementOutcome(existing, created=False, exception_item_id=_open_item_id(existing))
        seen[key] = outcome.statement
        result.statements.append(outcome)
    file.summary = result.summary()
    stamp(file, actor, f"Recorded what {name} held")
    file.save(update_fields=["summary"])
    return result


def _existing_statement(account: str, statement_id: str, period_end) -> BankStatement | None:
    return BankStatement.objects.filter(
        account=account, bank_statement_id=statement_id[:140], period_end=period_end
    ).first()


def _create_statement(parsed: Statement, *, file, actor, entity) -> StatementOutcome:
    check = check_balance(parsed)
    statement = _fill(BankStatement(legal_entity=entity), parsed, file=file, check=check)
    reason = f"Imported from {file.original_name}"
    stamp(statement, actor, reason)
    statement.save()
    _add_entries(statement, parsed, actor=actor, reason=reason)
    item_id = None
    if check.balanced is False:
        item_id = _open_unbalanced(statement, check, actor)
    return StatementOutcome(statement, created=True, exception_item_id=item_id)


def _fill(
    statement: BankStatement, parsed: Statement, *, file: StatementFile, check: BalanceCheck
) -> BankStatement:
    statement.file = file
    statement.format = parsed.format
    statement.account = parsed.account
    statement.currency = parsed.currency
    statement.bank_statement_id = parsed.statement_id[:140]
    statement.sequence = parsed.sequence[:40]
    statement.period_start = parsed.period_start or parsed.period_end
    statement.period_end = parsed.period_end
    statement.entry_count = len(parsed.entries)
    statement.credit_total = parsed.credit_total
    statement.debit_total = parsed.debit_total
    statement.balanced = check.balanced
    statement.balance_note = check.note[:300]
    statement.reconcilable = check.balanced is not False
    for prefix, balance in (("opening", parsed.opening_booked), ("closing", parsed.closing_booked)):
        setattr(statement, f"{prefix}_balance", None if balance is None else balance.amount)
        setattr(statement, f"{prefix}_date", None if balance is None else balance.date)
    for prefix, balance in (
        ("closing_available", parsed.closing_available),
        ("forward_available", parsed.forward_available),
    ):
        setattr(statement, prefix, None if balance is None else balance.amount)
        setattr(statement, f"{prefix}_date", None if balance is None else balance.date)
    return statement


def _add_entries(statement: BankStatement, parsed: Statement, *, actor: Actor, reason: str) -> None:
    bulk_create_with_history(
        [_entry(statement, entry, number) for number, entry in enumerate(parsed.entries, 1)],
        BankEntry,
        default_user=actor.user,
        default_change_reason=reason,
        custom_historical_attrs={"history_source": actor.system, "history_actor": actor.label},
    )


def _corrects(stored: BankStatement, parsed: Statement) -> bool:
    """Whether `parsed` is a corrected version of a statement stored unbalanced:
    the same statement sent again as it was changes nothing."""
    if stored.balanced is not False:
        return False
    check = check_balance(parsed)
    again = _fill(BankStatement(), parsed, file=stored.file, check=check)
    compared = (
        "opening_balance",
        "closing_balance",
        "closing_available",
        "forward_available",
        "credit_total",
        "debit_total",
        "entry_count",
    )
    return any(getattr(again, name) != getattr(stored, name) for name in compared)


def _replace_statement(stored: BankStatement, parsed: Statement, *, file, actor, entity) -> StatementOutcome:
    """Put the corrected version in the place of a statement stored unbalanced:
    same row (links to it stay valid), new balances and entries, with history."""
    previous = stored.file.original_name
    reason = f"Replaced by the corrected statement in {file.original_name} (was {previous})"
    for entry in stored.entries.all():
        stamp(entry, actor, reason)
        entry.delete()
    check = check_balance(parsed)
    _fill(stored, parsed, file=file, check=check)
    stored.legal_entity = entity or stored.legal_entity
    stamp(stored, actor, reason)
    stored.save()
    _add_entries(
        stored, parsed, actor=actor, reason=f"Imported from {file.original_name}, correcting {previous}"
    )
    item_id = None
    if check.balanced is False:
        item_id = _open_unbalanced(stored, check, actor)  # counted again, with the new figures
    else:
        exception_resolve_if_open(
            dedupe_key=unbalanced_dedupe_key(stored),
            actor=actor,
            note=f"The bank sent a corrected statement ({file.original_name}) that balances.",
        )
    return StatementOutcome(stored, created=False, replaced=True, exception_item_id=item_id)


def _entry(statement: BankStatement, entry, number: int) -> BankEntry:
    return BankEntry(
        statement=statement,
        sequence=number,
        booking_date=entry.booking_date,
        value_date=entry.value_date,
        amount=entry.amount,
        direction=entry.direction,
        currency=entry.currency,
        status=entry.status,
        end_to_end_id=entry.end_to_end_id[:140],
        bank_reference=entry.bank_reference[:140],
        structured_reference=entry.structured_reference[:140],
        remittance_info=entry.remittance_info,
        counterparty_name=entry.counterparty_name[:140],
        counterparty_account=entry.counterparty_account[:70],
        bank_transaction_code=entry.bank_transaction_code[:40],
        raw=entry.raw,
    )


def unbalanced_dedupe_key(statement: BankStatement) -> str:
    return make_dedupe_key(ExceptionCode.STATEMENT_UNBALANCED, statement)


def _open_unbalanced(statement: BankStatement, check: BalanceCheck, actor: Actor) -> int:
    item, _created = exception_open(
        code=ExceptionCode.STATEMENT_UNBALANCED,
        dedupe_key=unbalanced_dedupe_key(statement),
        title=f"Bank statement {statement.account} of {statement.period_end.isoformat()} does not balance",
        message=(
            f"{check.note} Its entries are kept but not reconciled automatically until the statement is "
            "checked with the bank."
        ),
        step_key=STEP_KEY,
        actor=actor,
        source_system=SOURCE_SYSTEM,
        subject=statement,
        legal_entity=statement.legal_entity,
        amount=check.difference,
        currency=statement.currency,
        external_id=statement.bank_statement_id,
        payload={
            "account": statement.account,
            "bank_statement_id": statement.bank_statement_id,
            "period_end": statement.period_end.isoformat(),
            "opening_balance": statement.opening_balance,
            "credits": statement.credit_total,
            "debits": statement.debit_total,
            "closing_balance": statement.closing_balance,
            "file": statement.file.original_name,
        },
        error_details=[
            {
                "field": "closing_balance",
                "label": "Closing booked balance",
                "message": "Opening balance + credits − debits should equal the bank's closing balance.",
                "expected": check.expected_closing,
                "actual": check.actual_closing,
            }
        ],
    )
    return item.pk


def _open_item_id(statement: BankStatement) -> int | None:
    from exceptions_queue.models import OPEN_STATUSES, ExceptionItem

    if statement.balanced is not False:
        return None
    return (
        ExceptionItem.objects.filter(dedupe_key=unbalanced_dedupe_key(statement), status__in=OPEN_STATUSES)
        .values_list("pk", flat=True)
        .first()
    )


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()
