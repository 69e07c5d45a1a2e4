"""Run one connector's sync in the foreground and print its counts as JSON."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from connectors import engine
from connectors.models import Connector, SyncRun


class Command(BaseCommand):
    help = (
        "Run a sync of one connector now, in this process, and print the run as one JSON object "
        "(counts, cursors, status). Exit status 0 when the run succeeded, 1 when it failed or waits to retry."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The connector's name, e.g. stripe-us")
        parser.add_argument(
            "--full", action="store_true", help="Read everything again instead of from the cursor"
        )

    def handle(self, *args, **options):
        connector = Connector.objects.filter(name=options["name"]).first()
        if connector is None:
            names = ", ".join(Connector.objects.order_by("name").values_list("name", flat=True)) or "none"
            raise CommandError(f"No connector named {options['name']!r}; connectors: {names}.")
        try:
            run = engine.run_create(
                connector=connector,
                trigger=SyncRun.Trigger.MANUAL,
                full=options["full"],
                requested_by="command line",
            )
        except engine.RunInProgress as exc:
            raise CommandError(str(exc)) from None
        run = engine.execute_run(run.pk) or SyncRun.objects.get(pk=run.pk)
        self.stdout.write(json.dumps(run_summary(run), sort_keys=True))
        if run.status != SyncRun.Status.SUCCEEDED:
            raise SystemExit(1)


def run_summary(run: SyncRun) -> dict:
    return {
        "connector": run.connector.name,
        "run": run.pk,
        "status": run.status,
        "full": run.full,
        "read": run.read,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "skipped": run.skipped,
        "business_errors": run.business_errors,
        "pages": run.pages,
        "attempts": run.attempts,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "next_retry_at": run.next_retry_at.isoformat() if run.next_retry_at else None,
        "error": run.error_message or None,
        "cursor_before": run.cursor_before,
        "cursor_after": run.cursor_after,
    }
