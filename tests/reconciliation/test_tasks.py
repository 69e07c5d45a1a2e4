"""The schedule's sweep and the run task: due runs start once, lost runs free
their reconciliation, and a duplicate delivery changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reconciliation import tasks
from reconciliation.models import Run
from reconciliation.runs import run_request
from tests.reconciliation.conftest import ADMIN

pytestmark = pytest.mark.django_db


def test_it_starts_a_run_for_a_reconciliation_never_run(erp_recon, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        started = tasks.start_due_runs()
    run = Run.objects.get()
    assert started == [run.pk] and run.trigger == "schedule" and run.status == "queued"


def test_it_waits_for_the_interval_and_skips_those_on_demand(erp_recon):
    Run.objects.create(
        reconciliation=erp_recon,
        trigger="manual",
        requested_by="a",
        status="succeeded",
        finished_at=timezone.now(),
    )
    assert tasks.start_due_runs() == []
    assert tasks.start_due_runs(now=timezone.now() + dt.timedelta(hours=25)) != []
    erp_recon.every_hours = 0
    erp_recon.save()
    Run.objects.filter(status="queued").delete()
    assert tasks.start_due_runs(now=timezone.now() + dt.timedelta(days=30)) == []


def test_a_duplicate_delivery_of_a_run_changes_nothing(erp_recon):
    run = run_request(reconciliation=erp_recon, actor=ADMIN, enqueue=False)
    assert tasks.execute_run(run.pk) == "succeeded"
    finished = Run.objects.get(pk=run.pk).finished_at
    assert tasks.execute_run(run.pk) == "skipped"
    assert Run.objects.get(pk=run.pk).finished_at == finished


def test_a_run_whose_worker_was_lost_fails_and_frees_the_reconciliation(erp_recon):
    lost = Run.objects.create(
        reconciliation=erp_recon,
        trigger="manual",
        requested_by="a",
        status="running",
        started_at=timezone.now() - dt.timedelta(hours=3),
    )
    started = tasks.start_due_runs()
    lost.refresh_from_db()
    assert lost.status == "failed" and "stopped before it finished" in lost.error
    assert len(started) == 1
