"""A corrected statement, sent again by the bank under the same id and date,
replaces one stored unbalanced — and only such a one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exceptions_queue.models import ExceptionItem
from reconciliation.statements.models import BankEntry, BankStatement
from reconciliation.statements.services import statement_import
from revops.actors import Actor
from tests.statements.vendor import sample

pytestmark = pytest.mark.django_db

TRIODOS = "mt940/jejik_triodos.sta"  # opening 4975.09 − 715.70 = 4259.39, but closes at 4370.79
MISSING_CREDIT = b":61:110131C111,40N000NONREF\r\n:86:000>20RENTE 2010\r\n"


def corrected(extra=MISSING_CREDIT) -> bytes:
    original = sample(TRIODOS)
    newline = b"\r\n" if b"\r\n" in original else b"\n"
    return original.replace(b":62F:", extra.replace(b"\r\n", newline) + b":62F:")


@pytest.fixture
def actor(analyst):
    return Actor.for_user(analyst)


def load(content, name, actor):
    return statement_import(content=content, filename=name, actor=actor)


def test_a_corrected_statement_that_balances_replaces_the_unbalanced_one(actor):
    first = load(sample(TRIODOS), "triodos.sta", actor).statements[0].statement
    old_entries = set(first.entries.values_list("pk", flat=True))
    result = load(corrected(), "triodos-corrected.sta", actor)
    [outcome] = result.statements
    assert outcome.replaced and not outcome.created and outcome.exception_item_id is None
    statement = BankStatement.objects.get()
    assert statement.pk == first.pk  # links to it stay valid
    assert (statement.balanced, statement.reconcilable, statement.entry_count) == (True, True, 3)
    assert (
        statement.credit_total == Decimal("111.40")
        and statement.file.original_name == "triodos-corrected.sta"
    )
    assert BankEntry.objects.filter(statement=statement).count() == 3
    assert not BankEntry.objects.filter(pk__in=old_entries).exists()
    item = ExceptionItem.objects.get(code="STATEMENT_UNBALANCED")
    assert item.status == "resolved" and "triodos-corrected.sta" in item.resolution_note
    change = statement.history.first()
    assert change.history_change_reason == (
        "Replaced by the corrected statement in triodos-corrected.sta (was triodos.sta)"
    )
    assert change.history_user == actor.user
    removed = BankEntry.history.filter(history_type="-")
    assert removed.count() == 2 and {r.id for r in removed} == old_entries
    assert result.summary()["statements"][0]["replaced"] is True


def test_the_same_unbalanced_statement_sent_again_in_another_file_changes_nothing(actor):
    load(sample(TRIODOS), "triodos.sta", actor)
    before = list(BankEntry.objects.values_list("pk", flat=True))
    again = load(sample(TRIODOS) + b"\n", "triodos-again.sta", actor)
    assert not again.statements[0].replaced
    assert list(BankEntry.objects.values_list("pk", flat=True)) == before
    assert BankStatement.objects.get().file.original_name == "triodos.sta"
    assert ExceptionItem.objects.get().occurrences == 1


def test_a_correction_that_still_does_not_balance_updates_the_open_item(actor):
    load(sample(TRIODOS), "triodos.sta", actor)
    result = load(corrected(b":61:110131C100,00N000NONREF\r\n:86:000>20RENTE\r\n"), "triodos-2.sta", actor)
    [outcome] = result.statements
    item = ExceptionItem.objects.get()
    assert outcome.replaced and outcome.exception_item_id == item.pk
    assert item.status == "new" and item.occurrences == 2
    assert (item.error_details[0]["expected"], item.error_details[0]["actual"]) == ("4359.39", "4370.79")
    assert BankStatement.objects.get().reconcilable is False


def test_a_balanced_statement_is_never_replaced(actor):
    load(sample(TRIODOS), "triodos.sta", actor)
    load(corrected(), "triodos-corrected.sta", actor)
    entries = list(BankEntry.objects.values_list("pk", flat=True))
    other = corrected(MISSING_CREDIT + b":61:110131C1,00N000NONREF\r\n")
    result = load(other, "triodos-other.sta", actor)
    assert not result.statements[0].replaced and not result.statements[0].created
    statement = BankStatement.objects.get()
    assert statement.file.original_name == "triodos-corrected.sta" and statement.balanced is True
    assert list(BankEntry.objects.values_list("pk", flat=True)) == entries
    assert ExceptionItem.objects.get().status == "resolved"


def test_the_upload_page_says_a_statement_was_replaced(client, analyst):
    client.force_login(analyst)
    for name, content in (("triodos.sta", sample(TRIODOS)), ("triodos-corrected.sta", corrected())):
        upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
        response = client.post(reverse("statements:upload"), {"file": upload}, follow=True)
    text = response.content.decode()
    assert "correcting a statement stored unbalanced, which it replaced" in text
