"""Django-Q2 tasks: execute a requested run, and start the runs that are due."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError
from django.db.models import Max, Q
from django.utils import timezone

from reconciliation import retention, runs
from reconciliation.models import Reconciliation, Run
from revops.actors import Actor
from revops.errors import DomainValidationError

logger = logging.getLogger(__name__)

SCHEDULER = Actor.for_system(runs.SYSTEM, "reconciliation schedule")


def execute_run(run_id: int) -> str:
    run = runs.execute_run(run_id)
    return "skipped" if run is None else run.status


def start_due_runs(now: dt.datetime | None = None) -> list[int]:
    """Queue a run for each enabled reconciliation whose last run is older than
    its interval, fail runs whose worker was lost, hand queued runs that no
    worker took back to the queue, and remove the report lines of a few runs
    past their retention."""
    now = now or timezone.now()
    runs.fail_lost_runs(now)
    started = []
    latest = Reconciliation.objects.filter(enabled=True, every_hours__gt=0).annotate(
        # A failed run is tried again at the next sweep, not an interval later.
        last=Max("runs__created_at", filter=~Q(runs__status=Run.Status.FAILED))
    )
    for recon in latest:
        if recon.last is not None and recon.last > now - dt.timedelta(hours=recon.every_hours):
            continue
        try:
            run = runs.run_request(reconciliation=recon, actor=SCHEDULER, trigger=Run.Trigger.SCHEDULE)
        except (DomainValidationError, IntegrityError):
            continue  # already running
        started.append(run.pk)
    for run_id in runs.latest_runs_stale():
        runs._enqueue(run_id)
    retention.remove_old_lines(now)
    return started
