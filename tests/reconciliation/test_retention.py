"""Report lines of runs past REVOPS_RECONCILIATION_LINES_DAYS are removed by the
schedule's sweep; totals, counts and breaks stay, and each reconciliation's
latest run keeps its lines however old."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from reconciliation import retention, tasks
from reconciliation.models import Run, RunLine, RunTotal
from tests.reconciliation.conftest import erp, invoice, run

pytestmark = pytest.mark.django_db


def finished_days_ago(done, days):
    Run.objects.filter(pk=done.pk).update(finished_at=timezone.now() - dt.timedelta(days=days))


@pytest.fixture
def three_runs(erp_recon, customer, settings):
    settings.REVOPS_RECONCILIATION_LINES_DAYS = 30
    invoice(customer, "INV-1")
    erp("ns-1", "INV-1")
    invoice(customer, "INV-2")  # unmatched: a break
    old, older_but_kept, latest = run(erp_recon), run(erp_recon), run(erp_recon)
    finished_days_ago(old, 45)
    finished_days_ago(older_but_kept, 20)
    finished_days_ago(latest, 40)  # past the retention, but the latest run
    return old, older_but_kept, latest


def lines_of(done):
    return RunLine.objects.filter(run_id=done.pk).count()


def test_it_removes_the_lines_of_runs_past_the_retention_and_keeps_the_rest(three_runs):
    old, kept, latest = three_runs
    totals = RunTotal.objects.filter(run=old).count()
    assert lines_of(old) == 2 and totals
    assert retention.remove_old_lines() == 1
    old.refresh_from_db()
    assert lines_of(old) == 0 and old.lines_removed_at is not None and old.line_ranges == {}
    assert RunTotal.objects.filter(run=old).count() == totals  # totals are kept for good
    assert (old.matched_groups, old.left_unmatched) == (1, 1)
    assert lines_of(kept) == 2 and lines_of(latest) == 2
    assert retention.remove_old_lines() == 0  # nothing left to do


def test_the_schedules_sweep_removes_them(three_runs):
    old, _, _ = three_runs
    tasks.start_due_runs()
    assert lines_of(old) == 0


def test_the_run_page_and_export_say_the_lines_were_removed(client, analyst, three_runs):
    old, kept, _ = three_runs
    retention.remove_old_lines()
    client.force_login(analyst)
    page = client.get(reverse("reconciliation:run", args=[old.pk]))
    text = page.content.decode()
    assert (
        page.status_code == 200 and "were removed on" in text and "REVOPS_RECONCILIATION_LINES_DAYS" in text
    )
    assert "Export all lines (CSV)" not in text
    export = client.get(reverse("reconciliation:run_export", args=[old.pk]))
    assert export.status_code == 410 and b"its totals and the breaks it opened are kept" in export.content
    assert client.get(reverse("reconciliation:run_export", args=[kept.pk])).status_code == 200
