"""Exception items through the services: open and deduplicate, assign, comment,
resolve, dismiss, and resubmit through a registered handler."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from exceptions_queue import services
from exceptions_queue.codes import make_dedupe_key
from exceptions_queue.models import ExceptionComment, ExceptionItem
from exceptions_queue.registry import (
    RESUBMIT_PENDING,
    ResubmitFailed,
    register_resubmit_handler,
    unregister_resubmit_handler,
)
from exceptions_queue.services import (
    exception_assign,
    exception_comment,
    exception_dismiss,
    exception_open,
    exception_resolve,
    exception_resolve_if_open,
    exception_resubmit,
)
from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import Customer
from tests import factories as f

pytestmark = pytest.mark.django_db

SYNC = Actor.for_system("stripe", "connector stripe-eu, run 42")
TEST_STEP = "test.invoice"
KEY = "UNKNOWN_CUSTOMER|stripe:invoice:in_123|customer"
S = ExceptionItem.Status


class RecordingHandler:
    """A resubmit handler whose behaviour each test sets through `effect`."""

    def __init__(self):
        self.calls = []
        self.effect = None

    def __call__(self, item, correction, actor):
        self.calls.append((item.pk, correction, actor))
        return self.effect(item, correction, actor) if self.effect else None


@pytest.fixture
def handler():
    recording = RecordingHandler()
    register_resubmit_handler(TEST_STEP, recording)
    yield recording
    unregister_resubmit_handler(TEST_STEP)


def open_item(**overrides):
    values = {
        "code": "UNKNOWN_CUSTOMER",
        "dedupe_key": KEY,
        "title": "Invoice in_123: customer cus_9 unknown",
        "message": "Stripe customer cus_9 is not linked to any revops customer.",
        "step_key": TEST_STEP,
        "actor": SYNC,
        "source_system": "stripe",
        "connector_id": 7,
        "connector_name": "stripe-eu",
        "sync_run_id": 42,
        "inbound_record_id": 1001,
        "payload": {"id": "in_123", "customer": "cus_9", "total": 10800},
        "error_details": [
            {
                "field": "customer",
                "message": "Unknown customer",
                "expected": "a linked customer",
                "actual": "cus_9",
            }
        ],
    }
    values.update(overrides)
    return exception_open(**values)


@pytest.fixture
def item():
    return open_item()[0]


@pytest.fixture
def me(analyst):
    return Actor.for_user(analyst)


# -- opening and deduplication ---------------------------------------------------


def test_it_opens_an_item_with_its_source_and_the_code_defaults():
    invoice = f.InvoiceFactory()
    item, created = open_item(
        code="TAX_MISMATCH",
        dedupe_key=make_dedupe_key("TAX_MISMATCH", invoice, "line-1"),
        subject=invoice,
        amount=Decimal("8.00"),
        currency="usd",
    )
    assert created
    item.refresh_from_db()
    assert (item.status, item.severity, item.priority) == (S.NEW, "high", ExceptionItem.Priority.HIGH)
    assert item.subject == invoice and item.object_label == str(invoice)
    assert item.legal_entity == invoice.legal_entity and item.correlation_id == invoice.correlation_id
    assert (item.connector_id, item.sync_run_id, item.inbound_record_id) == (7, 42, 1001)
    assert (item.amount, item.currency, item.occurrences) == (Decimal("8.00"), "USD", 1)
    assert item.first_seen_at == item.last_seen_at
    assert item.customer == invoice.customer
    assert item.error_details == [
        {
            "field": "customer",
            "path": "",
            "label": "",
            "message": "Unknown customer",
            "expected": "a linked customer",
            "actual": "cus_9",
        }
    ]
    assert item.team is None and item.due_at is None
    row = item.history.get()
    assert (row.history_source, row.history_actor) == ("stripe", "connector stripe-eu, run 42")
    assert row.history_change_reason == "Opened: Invoice in_123: customer cus_9 unknown"


def test_it_counts_a_repeat_instead_of_adding_a_row(item):
    again, created = open_item(
        message="Still unknown.",
        sync_run_id=43,
        inbound_record_id=1002,
        payload={"id": "in_123", "customer": "cus_9", "total": 10900},
        error_details=[{"field": "customer", "message": "Still unknown"}],
    )
    assert not created and again.pk == item.pk
    assert ExceptionItem.objects.count() == 1
    again.refresh_from_db()
    assert again.occurrences == 2 and again.last_seen_at > item.last_seen_at
    assert again.first_seen_at == item.first_seen_at
    assert (again.message, again.sync_run_id, again.inbound_record_id) == ("Still unknown.", 43, 1002)
    assert again.payload["total"] == 10900
    assert again.error_details == [
        {
            "field": "customer",
            "path": "",
            "label": "",
            "message": "Still unknown",
            "expected": None,
            "actual": None,
        }
    ]
    assert again.history.first().history_change_reason == "Seen again (2 times)"


def test_a_repeat_after_resolution_opens_a_new_item(item, me):
    exception_resolve(item=item, actor=me, note="Customer linked")
    second, created = open_item()
    assert created and second.pk != item.pk
    assert ExceptionItem.objects.filter(dedupe_key=KEY).count() == 2


def test_a_repeat_keeps_an_item_in_review_where_it_is(item, me, analyst):
    exception_assign(item=item, assignee=analyst, actor=me)
    again, _ = open_item()
    assert again.status == S.IN_REVIEW and again.assignee == analyst


def test_it_refuses_unknown_codes_and_bad_step_keys():
    with pytest.raises(DomainValidationError) as excinfo:
        open_item(code="NOT_A_CODE")
    assert "code" in excinfo.value.message_dict
    with pytest.raises(DomainValidationError) as excinfo:
        open_item(step_key="Stripe Invoice")
    assert "step_key" in excinfo.value.message_dict
    with pytest.raises(DomainValidationError):
        open_item(amount=Decimal("1.00"))
    assert not ExceptionItem.objects.exists()


def test_the_dedupe_key_names_code_object_and_rule():
    customer = f.CustomerFactory()
    assert (
        make_dedupe_key("UNKNOWN_PRODUCT", customer, "sku")
        == f"UNKNOWN_PRODUCT|revops.customer:{customer.pk}|sku"
    )
    assert make_dedupe_key("LATE_USAGE", "stripe:usage:u_1") == "LATE_USAGE|stripe:usage:u_1|"
    long_key = make_dedupe_key("LATE_USAGE", "x" * 400, "rule")
    assert len(long_key) == 255 and long_key != make_dedupe_key("LATE_USAGE", "x" * 401, "rule")
    with pytest.raises(ValueError):
        make_dedupe_key("NOPE", customer)


# -- resolve, dismiss, assign, comment --------------------------------------------


def test_a_later_run_that_finds_the_problem_gone_resolves_the_item(item):
    resolved = exception_resolve_if_open(
        dedupe_key=KEY, actor=SYNC, note="Customer cus_9 is linked now; the invoice went through on run 44"
    )
    assert resolved.pk == item.pk
    resolved.refresh_from_db()
    assert resolved.status == S.RESOLVED and resolved.resolved_at is not None
    assert resolved.resolution_note.startswith("Customer cus_9 is linked now")
    assert resolved.history.first().history_change_reason.startswith("Resolved: Customer cus_9")
    assert exception_resolve_if_open(dedupe_key=KEY, actor=SYNC, note="again") is None


def test_dismissing_needs_a_reason(item, me):
    for reason in ("", "   "):
        with pytest.raises(DomainValidationError) as excinfo:
            exception_dismiss(item=item, actor=me, reason=reason)
        assert "reason" in excinfo.value.message_dict
    item.refresh_from_db()
    assert item.status == S.NEW
    dismissed = exception_dismiss(item=item, actor=me, reason="Test customer, never billed")
    dismissed.refresh_from_db()
    assert (dismissed.status, dismissed.dismissed_reason) == (S.DISMISSED, "Test customer, never billed")
    assert dismissed.resolved_at is not None
    row = dismissed.history.first()
    assert row.history_user.username == "analyst"
    assert row.history_change_reason == "Dismissed: Test customer, never billed"


def test_a_closed_item_cannot_be_dismissed_or_resolved_again(item, me):
    exception_resolve(item=item, actor=me, note="Fixed")
    with pytest.raises(DomainValidationError):
        exception_dismiss(item=item, actor=me, reason="x")
    with pytest.raises(DomainValidationError):
        exception_resolve(item=item, actor=me, note="Fixed")


def test_assigning_puts_a_new_item_in_review(item, me, analyst, integration_admin):
    item = exception_assign(item=item, assignee=analyst, actor=me)
    assert (item.assignee, item.status) == (analyst, S.IN_REVIEW)
    assert item.history.first().history_change_reason == "Assigned to analyst"
    item = exception_assign(item=item, assignee=integration_admin, actor=me, reason="Needs a mapping")
    assert item.history.first().history_change_reason == "Needs a mapping"
    item = exception_assign(item=item, assignee=None, actor=me)
    assert item.assignee is None and item.status == S.IN_REVIEW


def test_comments_record_their_author(item, me, analyst):
    comment = exception_comment(item=item, body="  Asked sales for the customer's tax id.  ", actor=me)
    assert (comment.author, comment.actor, comment.body) == (
        analyst,
        "analyst",
        "Asked sales for the customer's tax id.",
    )
    assert comment.history.get().history_user == analyst
    with pytest.raises(DomainValidationError):
        exception_comment(item=item, body=" ", actor=me)
    assert ExceptionComment.objects.count() == 1


# -- resubmission ------------------------------------------------------------------


def test_a_successful_resubmission_resolves_the_item(item, me, handler):
    result = exception_resubmit(item=item, actor=me, correction={"customer": "cus_10"}, reason="Typo in id")
    assert handler.calls == [(item.pk, {"customer": "cus_10"}, me)]
    result.refresh_from_db()
    assert (result.status, result.resolution_note) == (S.RESOLVED, "Resubmitted successfully")
    assert result.correction == {"customer": "cus_10"}


def test_the_history_shows_the_correction_with_who_and_why(item, me, analyst, handler):
    exception_resubmit(item=item, actor=me, correction={"customer": "cus_10"}, reason="Typo in id")
    resolved, resubmitted, opened = item.history.all()[:3]
    assert resubmitted.history_user == analyst and resubmitted.history_actor == "analyst"
    assert resubmitted.history_change_reason == "Resubmitted with corrected customer: Typo in id"
    changes = {c.field: (c.old, c.new) for c in resubmitted.diff_against(opened).changes}
    assert changes["correction"] == (None, {"customer": "cus_10"})
    assert changes["status"] == (S.NEW, S.RESUBMITTED)
    assert resolved.history_change_reason == "Resubmitted successfully" and resolved.history_user == analyst


def test_a_failed_resubmission_reopens_with_the_new_error_and_undoes_the_handlers_writes(item, me, handler):
    def fail(item, correction, actor):
        f.CustomerFactory(number="WRITTEN-BY-HANDLER")
        raise ResubmitFailed(
            "Stripe customer cus_10 is not linked either.",
            [{"field": "customer", "message": "Unknown customer", "actual": "cus_10"}],
        )

    handler.effect = fail
    result = exception_resubmit(item=item, actor=me, correction={"customer": "cus_10"}, reason="Try cus_10")
    result.refresh_from_db()
    assert (result.status, result.occurrences) == (S.NEW, 2)
    assert result.message == "Stripe customer cus_10 is not linked either."
    assert result.error_details == [
        {
            "field": "customer",
            "path": "",
            "label": "",
            "message": "Unknown customer",
            "expected": None,
            "actual": "cus_10",
        }
    ]
    assert result.correction == {"customer": "cus_10"} and result.resolved_at is None
    assert not Customer.objects.filter(number="WRITTEN-BY-HANDLER").exists()
    assert result.history.first().history_change_reason == (
        "Resubmission failed: Stripe customer cus_10 is not linked either."
    )


def test_a_validation_error_from_the_services_reopens_field_by_field(item, me, handler):
    def fail(item, correction, actor):
        raise field_error("tax_id", "DE123 is not a valid VAT number.")

    handler.effect = fail
    result = exception_resubmit(item=item, actor=me, reason="Retry")
    assert result.status == S.NEW
    assert result.error_details == [
        {
            "field": "tax_id",
            "path": "",
            "label": "",
            "message": "DE123 is not a valid VAT number.",
            "expected": None,
            "actual": None,
        }
    ]
    assert result.history.all()[1].history_change_reason == "Resubmitted as received: Retry"


def test_a_pipeline_that_reopens_the_item_itself_is_not_taken_for_success(item, me, handler):
    # The owner's handler re-runs the real pipeline, which reports the problem again
    # through exception_open instead of raising.
    handler.effect = lambda item, correction, actor: open_item(message="Still unknown after correction")
    result = exception_resubmit(item=item, actor=me, correction={"customer": "cus_10"}, reason="Try")
    assert (result.status, result.occurrences, result.message) == (S.NEW, 2, "Still unknown after correction")
    assert "Failed again after resubmission" in result.history.first().history_change_reason


def test_a_queued_resubmission_waits_for_the_pipeline(item, me, handler):
    handler.effect = lambda item, correction, actor: RESUBMIT_PENDING
    result = exception_resubmit(item=item, actor=me, reason="Queued")
    assert result.status == S.RESUBMITTED
    with pytest.raises(DomainValidationError):
        exception_resubmit(item=result, actor=me, reason="Twice")
    # The re-run failed again: the pipeline's repeat reopens the item with the new error.
    reopened, created = open_item(message="ERP says the period is closed")
    assert not created and (reopened.status, reopened.occurrences) == (S.NEW, 2)
    assert reopened.message == "ERP says the period is closed"


def test_a_pending_resubmission_that_fails_later_goes_back_saying_why(item, me, handler):
    handler.effect = lambda item, correction, actor: RESUBMIT_PENDING
    waiting = exception_resubmit(item=item, actor=me, reason="Queued")
    reopened = services.exception_resubmission_failed(
        item=waiting, actor=me, message="The run failed: disk full"
    )
    assert (reopened.status, reopened.occurrences, reopened.message) == (
        S.NEW,
        2,
        "The run failed: disk full",
    )
    assert reopened.history.first().history_change_reason == "Resubmission failed: The run failed: disk full"
    # No longer waiting: a late failure changes nothing.
    again = services.exception_resubmission_failed(item=reopened, actor=me, message="Late")
    assert (again.status, again.occurrences, again.message) == (S.NEW, 2, "The run failed: disk full")


def test_an_unexpected_fault_rolls_the_whole_resubmission_back(item, me, handler):
    def crash(item, correction, actor):
        raise RuntimeError("connection reset")

    handler.effect = crash
    with pytest.raises(RuntimeError):
        exception_resubmit(item=item, actor=me, correction={"customer": "cus_10"}, reason="Try")
    item.refresh_from_db()
    assert item.status == S.NEW and item.correction is None


def test_resubmitting_an_unregistered_step_says_so(me):
    item, _ = open_item(step_key="nobody.owns_this")
    with pytest.raises(DomainValidationError) as excinfo:
        exception_resubmit(item=item, actor=me, reason="Try")
    assert excinfo.value.message_dict["step_key"] == [
        "No resubmit handler is registered for step nobody.owns_this."
    ]
    item.refresh_from_db()
    assert item.status == S.NEW and item.history.count() == 1


def test_resubmitting_needs_a_reason_and_an_open_item(item, me, handler):
    with pytest.raises(DomainValidationError):
        exception_resubmit(item=item, actor=me, reason=" ")
    exception_dismiss(item=item, actor=me, reason="Not ours")
    with pytest.raises(DomainValidationError):
        exception_resubmit(item=item, actor=me, reason="Try")
    assert handler.calls == []


# -- concurrency ---------------------------------------------------------------------


def test_a_lost_race_to_open_becomes_a_repeat(item, monkeypatch):
    """Another transaction inserted the item after our look-up: the insert hits the
    partial unique constraint, and the savepoint lets us count a repeat instead."""
    real_find = services._find_open
    calls = []

    def find_missing_first_time(key):
        calls.append(key)
        return None if len(calls) == 1 else real_find(key)

    monkeypatch.setattr(services, "_find_open", find_missing_first_time)
    again, created = open_item(message="Seen by a parallel run")
    assert not created and again.pk == item.pk and len(calls) == 2
    again.refresh_from_db()
    assert (again.occurrences, again.message) == (2, "Seen by a parallel run")
    assert ExceptionItem.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent PostgreSQL transactions")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_opening_the_same_problem_at_once_make_one_item(monkeypatch):
    real_find = services._find_open
    barrier = threading.Barrier(2, timeout=10)
    state = threading.local()
    lookups = []

    def find_then_wait(key):
        found = real_find(key)
        lookups.append(found)
        if not getattr(state, "waited", False):
            state.waited = True
            barrier.wait()  # both have looked and found nothing; now both insert
        return found

    monkeypatch.setattr(services, "_find_open", find_then_wait)
    results, errors = [], []

    def run(n):
        try:
            results.append(open_item(sync_run_id=100 + n))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(created for _, created in results) == [False, True]
    item = ExceptionItem.objects.get()
    assert item.occurrences == 2
    # Two look-ups found nothing; the loser's insert was refused, and its third look-up found the row.
    assert [found is None for found in lookups] == [True, True, False]


# -- timestamps ------------------------------------------------------------------------


def test_last_seen_never_goes_backwards(item, monkeypatch):
    earlier = item.last_seen_at - dt.timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: earlier)
    again, _ = open_item()
    assert again.last_seen_at == item.last_seen_at and again.occurrences == 2
