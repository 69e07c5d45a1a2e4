"""Old report lines are removed; totals and breaks stay.

A run at a million records a side writes a million report lines, so a daily
reconciliation would add a third of a billion rows a year. The lines of a run
finished more than `REVOPS_RECONCILIATION_LINES_DAYS` ago are removed (the run's
totals, counts, phases and the breaks it opened are kept for good), except
those of each reconciliation's latest succeeded run, which the reconciliation's
page and cash application read however old it is. The schedule's sweep removes
a few runs' lines each time, so no sweep runs long.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef
from django.utils import timezone

from reconciliation.models import Run, RunLine, newest_run

RUNS_PER_SWEEP = 3


def runs_with_old_lines(now: dt.datetime, limit: int) -> list[int]:
    """Up to `limit` runs whose lines are past the retention, oldest first, each
    reconciliation's latest succeeded run left out."""
    cutoff = now - dt.timedelta(days=settings.REVOPS_RECONCILIATION_LINES_DAYS)
    old = Run.objects.filter(
        status=Run.Status.SUCCEEDED, finished_at__lt=cutoff, lines_removed_at__isnull=True
    ).exclude(pk=newest_run(OuterRef("reconciliation"), (Run.Status.SUCCEEDED,)))
    return list(old.order_by("finished_at", "pk").values_list("pk", flat=True)[:limit])


def delete_lines(run_id: int, line_ranges: dict | None) -> None:
    """Delete a run's lines. They are read through their id ranges (no index on
    the run), and deleted the same way."""
    for first, last in (line_ranges or {}).values():
        RunLine.objects.filter(id__range=(first, last), run_id=run_id).delete()


def remove_old_lines(now: dt.datetime | None = None, *, limit: int = RUNS_PER_SWEEP) -> int:
    """Remove the lines of up to `limit` runs past the retention; returns how many runs."""
    now = now or timezone.now()
    removed = 0
    for run_id in runs_with_old_lines(now, limit):
        with transaction.atomic():
            run = Run.objects.select_for_update().filter(pk=run_id, lines_removed_at__isnull=True).first()
            if run is None:
                continue
            delete_lines(run.pk, run.line_ranges)
            Run.objects.filter(pk=run.pk).update(lines_removed_at=now, line_ranges={})
        removed += 1
    return removed
