"""Resubmitting a break queues one run of its reconciliation and returns; the
item waits until that run has looked at its record again, and the run settles
every break waiting on it: resolved, reopened, left for a confirmation, or put
back saying why when the record is gone or the run failed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from reconciliation import runs, tasks
from reconciliation.models import Run
from revops.actors import Actor
from tests.reconciliation.conftest import erp, invoice, run

pytestmark = pytest.mark.django_db


def breaks():
    return ExceptionItem.objects.filter(code="RECONCILIATION_BREAK").order_by("id")


def resubmit(item, analyst, capture, reason="Fixed in NetSuite"):
    with capture() as callbacks:
        item = exception_resubmit(item=item, actor=Actor.for_user(analyst), reason=reason)
    return item, callbacks


def queued(recon):
    return recon.runs.get(status=Run.Status.QUEUED, trigger=Run.Trigger.RESUBMIT)


def test_it_queues_a_run_and_waits_for_it(erp_recon, customer, analyst, django_capture_on_commit_callbacks):
    invoice(customer, "INV-25")
    run(erp_recon)
    item, callbacks = resubmit(breaks().get(), analyst, django_capture_on_commit_callbacks)
    assert item.status == "resubmitted"
    pending = queued(erp_recon)
    assert len(callbacks) == 1  # the run is handed to a worker once the resubmission commits
    erp("ns-25", "INV-25")
    assert tasks.execute_run(pending.pk) == "succeeded"
    item.refresh_from_db()
    assert item.status == "resolved" and f"Matched by run {pending.pk}" in item.resolution_note


def test_a_break_still_unmatched_goes_back_to_the_queue(
    erp_recon, customer, analyst, django_capture_on_commit_callbacks
):
    invoice(customer, "INV-26")
    run(erp_recon)
    item, _ = resubmit(breaks().get(), analyst, django_capture_on_commit_callbacks, reason="Try again")
    tasks.execute_run(queued(erp_recon).pk)
    item.refresh_from_db()
    assert item.status == "new" and item.occurrences == 2
    assert "Failed again after resubmission" in item.history.first().history_change_reason


def test_a_bulk_resubmission_shares_one_run(erp_recon, customer, analyst, django_capture_on_commit_callbacks):
    invoice(customer, "INV-40")
    invoice(customer, "INV-41")
    run(erp_recon)
    first, second = breaks()
    resubmit(first, analyst, django_capture_on_commit_callbacks)
    resubmit(second, analyst, django_capture_on_commit_callbacks)
    pending = queued(erp_recon)
    assert erp_recon.runs.filter(trigger=Run.Trigger.RESUBMIT).count() == 1
    erp("ns-40", "INV-40")
    erp("ns-41", "INV-41")
    tasks.execute_run(pending.pk)
    assert set(breaks().values_list("status", flat=True)) == {"resolved"}


def test_a_run_already_under_way_is_not_trusted_with_the_fix(
    erp_recon, customer, analyst, django_capture_on_commit_callbacks
):
    invoice(customer, "INV-27")
    run(erp_recon)
    under_way = Run.objects.create(
        reconciliation=erp_recon,
        trigger="schedule",
        requested_by="schedule",
        status="running",
        started_at=timezone.now(),
    )
    item, callbacks = resubmit(breaks().get(), analyst, django_capture_on_commit_callbacks)
    assert item.status == "new" and not callbacks
    assert f"Run {under_way.pk} of Billing ⇄ NetSuite is under way" in item.message


def test_a_suggested_match_keeps_the_break_waiting_for_an_analyst(
    erp_recon, customer, analyst, django_capture_on_commit_callbacks
):
    invoice(customer, "INV-28")
    run(erp_recon)
    item, _ = resubmit(breaks().get(), analyst, django_capture_on_commit_callbacks)
    erp("ns-28", "INV-28", amount="109.00")  # within 2 %: suggested, not matched
    tasks.execute_run(queued(erp_recon).pk)
    item.refresh_from_db()
    assert item.status == "resubmitted" and item.occurrences == 1


def test_a_record_the_run_no_longer_sees_goes_back_saying_so(
    erp_recon, customer, analyst, django_capture_on_commit_callbacks
):
    stray = erp("ns-29", "INV-29")  # in NetSuite, unknown to billing
    run(erp_recon)
    item, _ = resubmit(
        breaks().get(), analyst, django_capture_on_commit_callbacks, reason="Deleted in NetSuite"
    )
    stray.delete()
    pending = queued(erp_recon)
    tasks.execute_run(pending.pk)
    item.refresh_from_db()
    assert item.status == "new" and item.occurrences == 2
    assert item.message.startswith(f"Run {pending.pk} of Billing ⇄ NetSuite no longer sees this record")


def test_a_failed_run_puts_its_resubmissions_back(
    erp_recon, customer, analyst, django_capture_on_commit_callbacks, monkeypatch
):
    invoice(customer, "INV-30")
    run(erp_recon)
    item, _ = resubmit(breaks().get(), analyst, django_capture_on_commit_callbacks)

    def broken(run, **options):
        raise RuntimeError("the ERP snapshot table is locked")

    monkeypatch.setattr(runs, "_execute", broken)
    pending = queued(erp_recon)
    assert tasks.execute_run(pending.pk) == "failed"
    item.refresh_from_db()
    assert item.status == "new"
    assert "failed: RuntimeError: the ERP snapshot table is locked" in item.message


def test_a_lost_run_puts_its_resubmissions_back(
    erp_recon, customer, analyst, django_capture_on_commit_callbacks
):
    invoice(customer, "INV-31")
    run(erp_recon)
    item, _ = resubmit(breaks().get(), analyst, django_capture_on_commit_callbacks)
    pending = queued(erp_recon)
    Run.objects.filter(pk=pending.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(hours=3)
    )
    assert runs.fail_lost_runs() == 1
    item.refresh_from_db()
    assert item.status == "new" and "stopped before it finished" in item.message
