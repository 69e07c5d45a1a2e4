"""Every database invariant of the bank statement models, attacked directly
around the service; removing a constraint makes its case fail."""

from __future__ import annotations

import datetime as dt
import inspect
import sys
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from reconciliation.statements.models import BankEntry, BankStatement, StatementFile

pytestmark = pytest.mark.django_db


def _breaks(constraint: str, action, *, columns: str = "") -> None:
    """PostgreSQL names the constraint; SQLite names a unique constraint's columns."""
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        action()
    message = str(excinfo.value)
    assert constraint in message or (columns and f"UNIQUE constraint failed: {columns}" in message)


def _update(obj, **values):
    return lambda: type(obj).objects.filter(pk=obj.pk).update(**values)


def _file(**overrides) -> StatementFile:
    values = dict(original_name="a.sta", sha256="a" * 64, format="mt940", size=10, uploaded_by_label="t")
    values.update(overrides)
    return StatementFile.objects.create(**values)


@pytest.fixture
def statement() -> BankStatement:
    return BankStatement.objects.create(
        file=_file(),
        format="mt940",
        account="NL71RABO0123456789",
        currency="EUR",
        bank_statement_id="940S130101",
        period_start=dt.date(2013, 1, 1),
        period_end=dt.date(2013, 1, 8),
        opening_balance=Decimal("1000.00"),
        closing_balance=Decimal("965.00"),
        balanced=True,
    )


@pytest.fixture
def entry(statement) -> BankEntry:
    return BankEntry.objects.create(
        statement=statement, sequence=1, amount=Decimal("25.00"), direction="debit", currency="EUR"
    )


def test_it_refuses_the_same_file_twice():
    _file()
    _breaks(
        "statement_file_sha256_unique",
        lambda: _file(original_name="copy.sta"),
        columns="statements_statementfile.sha256",
    )


def test_it_refuses_a_sha256_that_is_not_hex():
    _breaks("statement_file_sha256_hex", _update(_file(), sha256="Z" * 64))


def test_it_refuses_a_file_of_an_unknown_format():
    _breaks("statement_file_format_known", _update(_file(), format="csv"))


def test_it_refuses_the_same_statement_twice(statement):
    _breaks(
        "bank_statement_unique_per_period",
        lambda: BankStatement.objects.create(
            file=_file(sha256="b" * 64),
            format="camt.053",
            account=statement.account,
            currency="EUR",
            bank_statement_id=statement.bank_statement_id,
            period_start=statement.period_start,
            period_end=statement.period_end,
        ),
        columns="statements_bankstatement.account, statements_bankstatement.bank_statement_id",
    )


def test_it_refuses_a_statement_currency_that_is_not_iso(statement):
    _breaks("bank_statement_currency_iso", _update(statement, currency="eur"))


def test_it_refuses_a_statement_of_an_unknown_format(statement):
    _breaks("bank_statement_format_known", _update(statement, format="qif"))


def test_it_refuses_a_statement_without_an_account(statement):
    _breaks("bank_statement_account_not_blank", _update(statement, account=""))


def test_it_refuses_negative_statement_totals(statement):
    _breaks("bank_statement_totals_not_negative", _update(statement, debit_total=Decimal("-1")))


def test_it_refuses_a_balance_check_without_balances(statement):
    _breaks("bank_statement_balanced_needs_balances", _update(statement, closing_balance=None))


def test_it_refuses_an_unbalanced_statement_marked_reconcilable(statement):
    _breaks(
        "bank_statement_unbalanced_not_reconcilable", _update(statement, balanced=False, reconcilable=True)
    )


def test_it_refuses_two_entries_in_one_place(entry):
    _breaks(
        "bank_entry_unique_sequence",
        lambda: BankEntry.objects.create(
            statement=entry.statement, sequence=1, amount=Decimal("1"), direction="credit", currency="EUR"
        ),
        columns="statements_bankentry.statement_id, statements_bankentry.sequence",
    )


def test_it_refuses_a_negative_entry_amount(entry):
    _breaks("bank_entry_amount_not_negative", _update(entry, amount=Decimal("-25.00")))


def test_it_refuses_an_unknown_direction(entry):
    _breaks("bank_entry_direction_known", _update(entry, direction="up"))


def test_it_refuses_an_unknown_entry_status(entry):
    _breaks("bank_entry_status_known", _update(entry, status="maybe"))


def test_it_refuses_an_entry_currency_that_is_not_iso(entry):
    _breaks("bank_entry_currency_iso", _update(entry, currency="€"))


def test_every_constraint_in_the_models_has_a_case_here():
    """A new constraint without a test here fails this test."""
    source = inspect.getsource(sys.modules[__name__])
    names = {
        constraint.name
        for model in (StatementFile, BankStatement, BankEntry)
        for constraint in model._meta.constraints
    }
    untested = sorted(name for name in names if f'"{name}"' not in source)
    assert untested == []
