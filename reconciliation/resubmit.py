"""Resubmitting a break asks for a run of its reconciliation; the item waits
(`resubmitted`) until that run has looked at its record again.

A run over a million records a side takes a while, and a bulk resubmission of a
hundred breaks must not start a hundred runs: so resubmission only queues one
run (or joins the one already queued) and returns at once. The run settles
every break waiting on it: it resolves those whose record it matched and
reopens those it still finds unmatched (both in `reconciliation.breaks`); those
it only suggests wait for an analyst's confirmation or rejection; and those it
no longer sees at all, or all of them when the run fails, go back to the queue
saying why (`settle_resubmissions`, `reopen_resubmissions`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from exceptions_queue.models import ExceptionItem, Status
from exceptions_queue.registry import RESUBMIT_PENDING, ResubmitFailed
from exceptions_queue.services import exception_resubmission_failed
from reconciliation import runs
from reconciliation.breaks import key_prefix, parse_break_key
from reconciliation.models import Outcome, Reconciliation, Run
from reconciliation.selectors import run_lines
from revops.actors import Actor
from revops.errors import DomainValidationError


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
    side, source_key = _record(item)
    if side not in ("left", "right") or not source_key:
        raise ResubmitFailed(
            "The item does not name the record it is about; dismiss it and let the next run reopen it."
        )
    try:
        runs.run_request(reconciliation=recon, actor=actor, trigger=Run.Trigger.RESUBMIT)
    except DomainValidationError:
        # One queued or running run per reconciliation. A queued one has not read
        # anything yet, so it sees the fix too; a running one read its records before.
        running = recon.runs.filter(status=Run.Status.RUNNING).first()
        if running is not None:
            raise ResubmitFailed(
                f"Run {running.pk} of {recon.name} is under way and read its records before this "
                "resubmission; resubmit once it has finished (its report shows when)."
            ) from None
    return RESUBMIT_PENDING


def _record(item: ExceptionItem) -> tuple[str | None, str | None]:
    payload = item.payload if isinstance(item.payload, dict) else {}
    return payload.get("side"), payload.get("source_key")


def _waiting(recon: Reconciliation) -> list[ExceptionItem]:
    return list(
        ExceptionItem.objects.filter(dedupe_key__startswith=key_prefix(recon.pk), status=Status.RESUBMITTED)
    )


def settle_resubmissions(run: Run, actor: Actor) -> int:
    """After the run's breaks are synced: reopen the resubmitted breaks of records
    the run did not see at all. Returns how many it reopened."""
    waiting = _waiting(run.reconciliation)
    if not waiting:
        return 0
    keyed = {_record(item): item for item in waiting}
    wanted = Q()
    for side, source_key in keyed:
        if side in ("left", "right") and source_key:
            wanted |= Q(**{f"{side}_key": source_key})
    suggested = set()
    if wanted:
        for left, right in (
            run_lines(run, Outcome.SUGGESTED).filter(wanted).values_list("left_key", "right_key")
        ):
            suggested.update({("left", left), ("right", right)})
    message = (
        f"Run {run.pk} of {run.reconciliation.name} no longer sees this record: it is outside the "
        "reconciliation's dates or was removed from its system. Dismiss the item if that is right."
    )
    unseen = [item for record, item in keyed.items() if record not in suggested]
    for item in unseen:
        _reopen(item, message, actor)
    return len(unseen)


def reopen_resubmissions(recon: Reconciliation, message: str, actor: Actor) -> int:
    """The run the resubmitted breaks waited on failed: put them back with why."""
    waiting = _waiting(recon)
    for item in waiting:
        _reopen(item, message, actor)
    return len(waiting)


def _reopen(item: ExceptionItem, message: str, actor: Actor) -> None:
    exception_resubmission_failed(item=item, actor=actor, message=message, details=item.error_details)
