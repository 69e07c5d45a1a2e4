"""Resubmitting a break runs its reconciliation again now: the run resolves the
item when it matches the record, or counts it again (reopening it) when not."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from exceptions_queue.registry import RESUBMIT_PENDING, ResubmitFailed
from reconciliation.breaks import parse_break_key
from reconciliation.models import Outcome, Reconciliation, Run, RunLine
from reconciliation.runs import run_now


def resubmit_break(item, correction: dict[str, Any] | None, actor) -> Any:
    if correction:
        raise ResubmitFailed(
            "A break is fixed in the system whose record is wrong, not here: correct it there, then resubmit "
            "without changes to run the reconciliation again."
        )
    parsed = parse_break_key(item.dedupe_key)
    recon_id = parsed[0] if parsed else (item.payload or {}).get("reconciliation_id")
    recon = Reconciliation.objects.filter(pk=recon_id).first()
    if recon is None:
        raise ResubmitFailed("The reconciliation that found this break no longer exists; dismiss the item.")
    if not recon.enabled:
        raise ResubmitFailed(f"{recon.name} is switched off; an Integration Admin can switch it on.")
    run = run_now(reconciliation=recon, actor=actor, trigger=Run.Trigger.RESUBMIT)
    if run.status == Run.Status.FAILED:
        raise ResubmitFailed(f"Run {run.pk} of {recon.name} failed: {run.error}")
    side, source_key = (item.payload or {}).get("side"), (item.payload or {}).get("source_key")
    if side not in ("left", "right") or not source_key:
        raise ResubmitFailed(
            "The item does not name the record it is about; dismiss it and let the next run reopen it."
        )
    seen = RunLine.objects.filter(Q(**{f"{side}_key": source_key}), run=run).values_list("outcome", flat=True)
    outcome = seen.first()
    if outcome is None:
        raise ResubmitFailed(
            f"Run {run.pk} of {recon.name} no longer sees this record: it is outside the reconciliation's dates "
            "or was removed from its system. Dismiss the item if that is right."
        )
    if outcome == Outcome.SUGGESTED:
        # Waits for an analyst to confirm (resolves the item) or reject (reopens it).
        return RESUBMIT_PENDING
    return None
