"""A run a worker executes (no transaction of the caller's open) gives its
engine a connection of its own and writes the matched lines while the breaks
are written: the report is the same as on one connection, and a run that fails
at any point keeps no lines, totals or breaks."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connections, transaction
from django.utils import timezone

from exceptions_queue.models import ExceptionItem
from reconciliation import runs
from reconciliation.engine import Engine
from reconciliation.engine_session import EngineSession, own_connection_possible
from reconciliation.models import Run, RunLine, RunTotal
from tests.reconciliation.conftest import erp, invoice, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
BREAK = "RECONCILIATION_BREAK"


@pytest.fixture
def books(erp_recon, customer):
    """One match, one suggestion and an unmatched record on each side."""
    invoice(customer, "INV-1")
    erp("ns-1", "INV-1")
    invoice(customer, "INV-2", total="1000.00", tax="0")
    erp("ns-2", "INV-2", amount="990.00", tax="0")
    invoice(customer, "INV-3", total="250.00", tax="0")
    erp("ns-9", "NS-9", amount="77.00", tax="0", record_date=dt.date(2026, 2, 1))
    return erp_recon


def report(done: Run):
    lines = sorted(
        (
            line.outcome,
            line.group_no is None,
            line.left_key,
            line.right_key,
            line.left_amount,
            line.right_amount,
        )
        for line in RunLine.objects.filter(run=done)
    )
    totals = sorted(
        RunTotal.objects.filter(run=done).values_list("side", "currency", "outcome", "count", "amount")
    )
    return lines, totals


def nothing_kept(failed: Run) -> bool:
    failed.refresh_from_db()
    return (
        not RunLine.objects.filter(run=failed).exists()
        and not RunTotal.objects.filter(run=failed).exists()
        and failed.line_ranges == {}
        and not ExceptionItem.objects.filter(code=BREAK).exists()
    )


def test_only_a_run_outside_any_transaction_may_use_a_second_connection(db):
    assert own_connection_possible()
    with transaction.atomic():
        assert not own_connection_possible()


def test_a_worker_run_reports_the_same_as_on_one_connection(books, monkeypatch):
    separate = run(books)
    assert separate.status == "succeeded", separate.error
    assert "matched lines (alongside the breaks)" in dict(separate.phase_times)
    assert (separate.matched_groups, separate.suggested_groups) == (1, 1)
    assert separate.breaks_opened == 2 and ExceptionItem.objects.filter(code=BREAK).count() == 2

    monkeypatch.setattr(runs, "own_connection_possible", lambda: False)
    together = run(books)
    assert together.status == "succeeded", together.error
    assert "matched lines" in dict(together.phase_times)
    assert report(separate) == report(together)
    assert len(report(together)[0]) == 4
    assert together.breaks_seen_again == 2 and together.breaks_opened == 0


@pytest.mark.parametrize(
    ("owner", "name", "error"),
    [
        (runs, "sync_breaks", "the exception queue is being migrated"),
        (Engine, "write_matched", "no room for the report lines"),
        (runs.resubmit, "settle_resubmissions", "the resubmissions table is locked"),
    ],
    ids=["breaks-beside-the-lines", "lines-beside-the-breaks", "after-the-engines-commit"],
)
def test_a_run_failing_at_any_point_keeps_no_lines_totals_or_breaks(books, monkeypatch, owner, name, error):
    def broken(*args, **kwargs):
        raise RuntimeError(error)

    monkeypatch.setattr(owner, name, broken)
    failed = run(books)
    assert failed.status == "failed" and error in failed.error
    assert nothing_kept(failed)


def test_a_run_the_server_refuses_a_second_connection_runs_on_one(books, monkeypatch):
    opened = connections.create_connection

    def refused(alias):
        own = opened(alias)
        own.settings_dict = {**own.settings_dict, "HOST": "127.0.0.1", "PORT": 1}  # nothing listens there
        return own

    monkeypatch.setattr(connections, "create_connection", refused)
    done = run(books)
    assert done.status == "succeeded", done.error
    steps = dict(done.phase_times)
    assert "matched lines" in steps and "matched lines (alongside the breaks)" not in steps
    assert (done.matched_groups, done.suggested_groups, done.breaks_opened) == (1, 1, 2)


def test_a_lost_run_whose_engine_had_committed_keeps_no_lines(books):
    done = run(books)
    assert RunLine.objects.filter(run=done).exists() and RunTotal.objects.filter(run=done).exists()
    # As if the worker stopped between the engine's commit and the run's.
    Run.objects.filter(pk=done.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(hours=3), finished_at=None
    )
    assert runs.fail_lost_runs() == 1
    assert not RunLine.objects.filter(run=done).exists() and not RunTotal.objects.filter(run=done).exists()


def test_a_failure_beside_a_running_statement_cancels_it_instead_of_waiting(db):
    with EngineSession(separate=True) as session:
        started = time.perf_counter()
        sleeping = session.alongside(lambda: session.cursor.execute("SELECT pg_sleep(60)"))
        with pytest.raises(RuntimeError, match="breaks failed"), sleeping:
            time.sleep(0.5)  # the statement is running on the engine's connection
            raise RuntimeError("breaks failed")
        assert time.perf_counter() - started < 30
