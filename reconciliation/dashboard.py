"""The dashboard's reconciliation tiles (registered from `AppConfig.ready`, so
the dashboard in `revops` imports nothing of this app)."""

from __future__ import annotations

from django.db.models import OuterRef

from exceptions_queue.models import OPEN_STATUSES, ExceptionItem
from reconciliation.breaks import CODE
from reconciliation.models import Reconciliation, Run, newest_run
from revops.selectors.dashboard import Tile, capped_count


def dashboard_tiles(user) -> list[Tile]:
    tiles = []
    if user.has_perm("exceptions_queue.view_exceptionitem"):
        breaks = ExceptionItem.objects.filter(code=CODE, status__in=OPEN_STATUSES)
        tiles.append(
            Tile("Open reconciliation breaks", *capped_count(breaks), "exceptions_queue:list", f"code={CODE}")
        )
    if user.has_perm("reconciliation.view_reconciliation"):
        finished = (Run.Status.SUCCEEDED, Run.Status.FAILED)
        failing = (
            Reconciliation.objects.filter(enabled=True)
            .annotate(last_status=newest_run(OuterRef("pk"), finished, field="status"))
            .filter(last_status=Run.Status.FAILED)
        )
        tiles.append(
            Tile(
                "Reconciliations whose last run failed",
                *capped_count(failing),
                "reconciliation:list",
            )
        )
    return tiles
