"""Django-Q2 tasks of the connectors. Every task takes ids only (never
credentials), is idempotent, and claims its row before working on it."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from connectors import engine
from connectors.models import Connector, SyncRun

logger = logging.getLogger(__name__)

RUN_TASK = "connectors.tasks.run_sync"


def enqueue_run(run: SyncRun) -> None:
    """Hand a queued run to the workers once the transaction that created it commits."""
    transaction.on_commit(
        lambda: async_task(RUN_TASK, run.pk, task_name=f"sync {run.connector.name} run {run.pk}")
    )


def run_sync(run_id: int) -> str:
    run = engine.execute_run(run_id)
    return "not claimed" if run is None else run.status


def schedule_retry(run_id: int, when: dt.datetime, *, attempt: int) -> None:
    """Retry by rescheduling, never by sleeping in a worker."""
    Schedule.objects.create(
        name=f"retry sync run {run_id} attempt {attempt + 1}",
        func=RUN_TASK,
        args=str(run_id),
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=when,
    )


def scheduled_sync(connector_id: int) -> str:
    """What a connector's schedule calls: start an incremental run unless one is active."""
    connector = Connector.objects.filter(pk=connector_id, enabled=True).first()
    if connector is None:
        return "connector disabled or gone"
    try:
        run = engine.run_create(
            connector=connector, trigger=SyncRun.Trigger.SCHEDULE, requested_by="schedule"
        )
    except engine.RunInProgress as exc:
        return f"skipped: run {exc.run.pk} is still active"
    return run_sync(run.pk)


def resume_stale_runs() -> int:
    """Hand runs whose worker died back to the queue (scheduled every few minutes)."""
    stale = timezone.now() - timezone.timedelta(seconds=engine.settings.Q_TIMEOUT)
    count = 0
    for run in SyncRun.objects.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=stale):
        async_task(RUN_TASK, run.pk, task_name=f"resume sync run {run.pk}")
        count += 1
    return count
