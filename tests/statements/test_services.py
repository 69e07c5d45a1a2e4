"""statement_import: what a file stores, what importing it again does, and the
exception an unbalanced statement opens."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from exceptions_queue.models import ExceptionItem
from reconciliation.statements.models import BankEntry, BankStatement, StatementFile
from reconciliation.statements.services import StatementRefused, statement_import, unbalanced_dedupe_key
from revops.actors import Actor
from tests import factories as f
from tests.statements.vendor import sample

pytestmark = pytest.mark.django_db

POSTFINANCE_053 = "camt/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml"


@pytest.fixture
def actor(analyst):
    return Actor.for_user(analyst)


def _import(name, actor, **kwargs):
    return statement_import(content=sample(name), filename=name.split("/")[-1], actor=actor, **kwargs)


def test_it_stores_the_statement_with_booked_and_available_balances_apart(actor):
    result = _import(POSTFINANCE_053, actor)
    assert result.created
    [outcome] = result.statements
    statement = BankStatement.objects.get(pk=outcome.statement.pk)
    assert (statement.format, statement.account, statement.currency) == (
        "camt.053",
        "CH2909000000250094239",
        "CHF",
    )
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("211993.19"),
        Decimal("215112.21"),
    )
    assert (statement.closing_available, statement.forward_available) == (
        Decimal("215112.21"),
        Decimal("216649.21"),
    )
    assert str(statement.forward_available_date) == "2020-11-25"
    assert (statement.entry_count, statement.credit_total, statement.debit_total) == (
        5,
        Decimal("4733.72"),
        Decimal("77.70"),
    )
    assert statement.balanced is True and statement.reconcilable is True
    assert "value-dated after 2020-11-24" in statement.balance_note
    entries = list(statement.entries.order_by("sequence"))
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5]
    assert (entries[3].amount, entries[3].direction, str(entries[3].value_date)) == (
        Decimal("1537.00"),
        "credit",
        "2020-11-25",
    )
    file = StatementFile.objects.get()
    assert file.uploaded_by == actor.user and file.uploaded_by_label == "analyst"
    assert file.summary["statements"][0]["available"]["forward"] == "216649.21"
    assert not ExceptionItem.objects.exists()


def test_it_writes_history_attributed_to_the_importer(actor):
    _import(POSTFINANCE_053, actor)
    statement = BankStatement.objects.get()
    [created] = statement.history.all()
    assert (created.history_type, created.history_actor, created.history_user) == ("+", "analyst", actor.user)
    assert created.history_change_reason.startswith("Imported from camt.053_P_")
    entry_history = BankEntry.history.filter(statement_id=statement.pk)
    assert entry_history.count() == 5
    assert set(entry_history.values_list("history_actor", "history_source")) == {("analyst", "revops")}


def test_it_changes_nothing_when_the_same_file_comes_again(actor):
    first = _import(POSTFINANCE_053, actor)
    again = _import(POSTFINANCE_053, actor)
    assert not again.created
    assert [o.created for o in again.statements] == [False]
    assert again.statements[0].statement.pk == first.statements[0].statement.pk
    assert (StatementFile.objects.count(), BankStatement.objects.count(), BankEntry.objects.count()) == (
        1,
        1,
        5,
    )
    assert StatementFile.history.count() == 2  # the import and its summary, once


def test_it_changes_nothing_for_a_statement_already_imported_from_another_file(actor):
    _import("mt940/betterplace_sepa_mt9401.sta", actor)
    before = (BankStatement.objects.count(), BankEntry.objects.count())
    result = _import("mt940/betterplace_sepa_snippet.sta", actor)
    # Both statements of the snippet have the account, id and closing date of statements
    # in the full file: they are the same statements, already imported.
    assert result.created
    assert [o.created for o in result.statements] == [False, False]
    assert (BankStatement.objects.count(), BankEntry.objects.count()) == before
    assert not ExceptionItem.objects.exists()


def test_it_opens_one_exception_for_an_unbalanced_statement(actor):
    result = _import("mt940/jejik_triodos.sta", actor)
    [outcome] = result.statements
    statement = outcome.statement
    assert statement.balanced is False and statement.reconcilable is False
    item = ExceptionItem.objects.get()
    assert outcome.exception_item_id == item.pk
    assert item.code == "STATEMENT_UNBALANCED"
    assert item.dedupe_key == unbalanced_dedupe_key(statement)
    assert (item.content_type.model, item.object_id) == ("bankstatement", statement.pk)
    assert (item.amount, item.currency) == (Decimal("111.40"), "EUR")
    [row] = item.error_details
    assert row["field"] == "closing_balance"
    assert (row["expected"], row["actual"]) == ("4259.39", "4370.79")
    assert "4259.39" in item.message and "4370.79" in item.message


def test_it_opens_an_exception_only_for_the_statements_that_do_not_balance(actor):
    result = _import("mt940/jejik_rabobank.sta", actor)
    assert [o.statement.balanced for o in result.statements] == [False, True, True, True]
    assert ExceptionItem.objects.count() == 1
    assert result.statements[0].exception_item_id == ExceptionItem.objects.get().pk
    again = _import("mt940/jejik_rabobank.sta", actor)
    assert again.statements[0].exception_item_id == ExceptionItem.objects.get().pk
    assert ExceptionItem.objects.get().occurrences == 1


def test_it_stores_a_notification_without_balances_as_not_checked(actor):
    [outcome] = _import("camt/FI_camt_054_sample.xml.xml", actor).statements
    statement = outcome.statement
    assert statement.balanced is None and statement.reconcilable is True
    assert statement.opening_balance is None and statement.closing_balance is None
    assert statement.entries.filter(status="pending").count() == 1


def test_it_stores_nothing_from_a_refused_file(actor):
    with pytest.raises(StatementRefused) as excinfo:
        _import("bai2/sample4-continuations-newline-delimited.txt", actor)
    assert excinfo.value.message.startswith(
        "Line 22, record 49: the account control total of account 107049932"
    )
    assert excinfo.value.status == 400
    assert not StatementFile.objects.exists() and not BankStatement.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(actor, settings):
    settings.REVOPS_STATEMENT_MAX_BYTES = 1000
    with pytest.raises(StatementRefused) as excinfo:
        _import(POSTFINANCE_053, actor)
    assert excinfo.value.status == 413
    assert excinfo.value.message.startswith(
        "The file is 6 KB; statement files up to 1000 bytes can be imported."
    )
    assert not StatementFile.objects.exists()


def test_it_rolls_back_everything_when_a_statement_cannot_be_stored(actor, monkeypatch):
    from reconciliation.statements import services

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_open_unbalanced", fail)
    with pytest.raises(RuntimeError), transaction.atomic():
        _import("mt940/jejik_knab.sta", actor)
    assert not StatementFile.objects.exists() and not BankStatement.objects.exists()


def test_it_attaches_statements_to_the_legal_entity_given(actor):
    entity = f.LegalEntityFactory()
    [outcome] = _import("mt940/citi_mt940.txt", actor, legal_entity=entity).statements
    assert BankStatement.objects.get(pk=outcome.statement.pk).legal_entity == entity


def test_it_refuses_amounts_with_more_decimals_than_it_stores(actor):
    content = b":20:X\n:25:A\n:28C:1\n:60F:C130101EUR10,001\n:62F:C130101EUR10,001\n-\n"
    with pytest.raises(StatementRefused, match="has more than 2 decimals"):
        statement_import(content=content, filename="x.sta", actor=actor)


def test_it_refuses_an_account_identifier_longer_than_it_stores(actor):
    content = sample("mt940/citi_mt940.txt").replace(b":25:123456789", b":25:" + b"9" * 71)
    with pytest.raises(StatementRefused, match="the account identifier has 71 characters"):
        statement_import(content=content, filename="long.txt", actor=actor)
    assert not StatementFile.objects.exists()


def test_it_skips_a_statement_stored_by_a_concurrent_import_of_another_file(actor, monkeypatch):
    from reconciliation.statements import services

    _import("mt940/betterplace_sepa_mt9401.sta", actor)
    lookups = []
    real = services._existing_statement

    def not_yet_committed(*key):
        # The first look-up runs before the other import's statement is visible.
        lookups.append(key)
        return None if len(lookups) == 1 else real(*key)

    monkeypatch.setattr(services, "_existing_statement", not_yet_committed)
    result = _import("mt940/betterplace_sepa_snippet.sta", actor)
    assert [o.created for o in result.statements] == [False, False]
    assert StatementFile.objects.count() == 2
    assert BankStatement.objects.count() == 26
