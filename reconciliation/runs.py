"""Runs: request one (on demand or by schedule), claim and execute it.

A run is requested as a `queued` row (the database allows one queued or
running run per reconciliation) and executed by a Django-Q2 task after the
request commits. The task claims the row with a conditional update, so a
duplicate delivery finds nothing to do. Both sides are copied into temporary
tables, matched by the engine, written as the run's lines and totals, and the
breaks are opened, counted again or resolved in the exception queue — all or
nothing. On PostgreSQL a worker's run gives its engine a connection of its own,
so that the matched lines and the breaks are written at once
(`reconciliation.engine_session`); a run that fails after the engine committed
has its lines and totals discarded. A run that fails is marked failed with its
error, in a transaction of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from reconciliation import resubmit
from reconciliation import sources as src
from reconciliation.breaks import open_breaks_locked, sync_breaks
from reconciliation.engine import Engine, RuleSpec
from reconciliation.engine_session import EngineSession, own_connection_possible
from reconciliation.models import MatchDecision, Outcome, Reconciliation, Run, RunTotal
from reconciliation.retention import delete_lines
from revops.actors import Actor
from revops.errors import field_error

logger = logging.getLogger(__name__)

EXECUTE_TASK = "reconciliation.tasks.execute_run"
SYSTEM = "reconciliation"


def system_actor(run: Run) -> Actor:
    return Actor.for_system(SYSTEM, f"reconciliation {run.reconciliation.name}, run {run.pk}")


def run_request(
    *,
    reconciliation: Reconciliation,
    actor: Actor,
    trigger: str = Run.Trigger.MANUAL,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    enqueue: bool = True,
) -> Run:
    """Queue a run; the worker executes it after this transaction commits."""
    if not reconciliation.enabled:
        raise field_error("reconciliation", f"{reconciliation.name} is switched off; switch it on to run it.")
    if date_from and date_to and date_from > date_to:
        raise field_error("date_from", "The first date must not be after the last date.")
    try:
        with transaction.atomic():
            run = Run.objects.create(
                reconciliation=reconciliation,
                trigger=trigger,
                requested_by=actor.label,
                date_from=date_from,
                date_to=date_to,
            )
    except IntegrityError:
        raise field_error(
            "reconciliation", f"{reconciliation.name} is already running; its report shows when it is done."
        ) from None
    if enqueue:
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from django_q.tasks import async_task

    try:
        async_task(EXECUTE_TASK, run_id, task_name=f"reconciliation-run-{run_id}")
    except Exception:
        # The run stays queued; the schedule's sweep hands it to a worker later.
        logger.exception("could not enqueue reconciliation run %s", run_id)


def run_now(
    *,
    reconciliation: Reconciliation,
    actor: Actor,
    trigger: str = Run.Trigger.MANUAL,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Run:
    """Request and execute a run in this process (commands, resubmission, tests)."""
    run = run_request(
        reconciliation=reconciliation,
        actor=actor,
        trigger=trigger,
        date_from=date_from,
        date_to=date_to,
        enqueue=False,
    )
    return execute_run(run.pk) or Run.objects.get(pk=run.pk)


def _claim(run_id: int) -> Run | None:
    claimed = Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).update(
        status=Run.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    return Run.objects.select_related("reconciliation").get(pk=run_id)


def execute_run(run_id: int) -> Run | None:
    """Execute a queued run; None when another worker has it or it is done."""
    run = _claim(run_id)
    if run is None:
        return None
    separate = own_connection_possible()
    try:
        with transaction.atomic():
            _execute(run, separate=separate)
    except Exception as exc:
        logger.exception("reconciliation run %s failed", run.pk)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        with transaction.atomic():
            discard_results(run.pk)
            Run.objects.filter(pk=run.pk).update(
                status=Run.Status.FAILED, finished_at=timezone.now(), error=error
            )
            _give_back_resubmissions(run, error)
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    return run


def scope_for(run: Run) -> src.Scope:
    recon = run.reconciliation
    today = timezone.localdate()
    date_to = run.date_to or today
    date_from = run.date_from or date_to - dt.timedelta(days=recon.lookback_days)
    return src.Scope(
        date_from=date_from,
        date_to=date_to,
        legal_entity_id=recon.legal_entity_id,
        external_system=recon.external_system,
    )


class _Clock:
    """Seconds per step, kept on the run for its report (and the benchmark)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.last = time.perf_counter()

    def tick(self, name: str) -> None:
        now = time.perf_counter()
        self.record(name, now - self.last)
        self.last = now

    def record(self, name: str, seconds: float) -> None:
        """Steps timed apart (two that ran at once); the next tick starts now."""
        self.phases[name] = round(self.phases.get(name, 0) + seconds, 3)
        self.last = time.perf_counter()


def _match(engine: Engine, recon: Reconciliation, sides: list[src.SideSource], clock: _Clock) -> None:
    """Load both sides into the engine and apply the analysts' decisions, then
    the reconciliation's rules in order."""
    engine.prepare()
    for side in sides:
        engine.load(side)
    engine.load_tokens(sides)
    clock.tick("load both sides")
    decisions = MatchDecision.objects.filter(reconciliation=recon)
    engine.load_rejections(
        decisions.filter(decision=MatchDecision.Decision.REJECTED).values_list("left_key", "right_key")
    )
    engine.apply_confirmed(
        decisions.filter(decision=MatchDecision.Decision.CONFIRMED).values_list("left_key", "right_key")
    )
    clock.tick("analysts' decisions")
    for rule in recon.rules.filter(enabled=True).order_by("position"):
        engine.apply(RuleSpec.from_rule(rule))
        clock.tick(f"rule {rule.position}: {rule.name}")


def _execute(run: Run, *, separate: bool) -> None:
    recon = run.reconciliation
    scope = scope_for(run)
    left, right = src.sides_for(recon.kind)
    sides = [left(src.LEFT, scope), right(src.RIGHT, scope)]
    clock = _Clock()
    with EngineSession(separate=separate) as session:
        engine = Engine(session.cursor)
        _match(engine, recon, sides, clock)
        ranges = engine.write_results(run.pk)
        groups = engine.group_counts()
        near = engine.near_misses()
        unmatched = engine.unmatched_records()
        existing = open_breaks_locked(recon.pk)
        matched = engine.matched_among(item.record for item in existing.values() if item.record)
        clock.tick("write unmatched and suggested lines, totals")
        # The matched lines, the run's largest write, go on while the breaks are written.
        with session.alongside(lambda: engine.write_matched(run.pk)) as lines:
            started = time.perf_counter()
            counts = sync_breaks(
                run=run,
                unmatched=unmatched,
                near_misses=near,
                matched=matched,
                existing=existing,
                actor=system_actor(run),
            )
            breaks_took = time.perf_counter() - started
        at_once = session.separate
        clock.record("matched lines" + (" (alongside the breaks)" if at_once else ""), lines.seconds)
        clock.record(
            "breaks in the exception queue" + (" (alongside the lines)" if at_once else ""), breaks_took
        )
        if lines.result:
            ranges[Outcome.MATCHED] = lines.result
        engine.drop()
        engine.record_ranges(run.pk, ranges)
        session.commit()
    run.line_ranges = ranges
    _count(run, groups)
    resubmit.settle_resubmissions(run, system_actor(run))
    clock.tick("commit and counts")
    Run.objects.filter(pk=run.pk).update(
        phases=[[name, seconds] for name, seconds in clock.phases.items()],
        status=Run.Status.SUCCEEDED,
        finished_at=timezone.now(),
        date_from=scope.date_from,
        date_to=scope.date_to,
        breaks_opened=counts.opened,
        breaks_seen_again=counts.seen_again,
        breaks_resolved=counts.resolved,
    )


def _count(run: Run, groups: dict[str, int]) -> None:
    """The run's record counts from its totals, in one query, and its groups."""

    def total(**filters) -> Sum:
        return Sum("count", filter=Q(**filters), default=0)

    counts = RunTotal.objects.filter(run=run).aggregate(
        left_count=total(side="left"),
        right_count=total(side="right"),
        left_unmatched=total(side="left", outcome=Outcome.UNMATCHED),
        right_unmatched=total(side="right", outcome=Outcome.UNMATCHED),
    )
    Run.objects.filter(pk=run.pk).update(
        **counts,
        matched_groups=groups.get(Outcome.MATCHED, 0),
        suggested_groups=groups.get(Outcome.SUGGESTED, 0),
    )


LOST_RUN = (
    "The worker running it stopped before it finished (a restart, or the job's time limit); nothing of it "
    "was kept. The schedule starts the next run; Run now starts one at once."
)


def discard_results(run_id: int) -> None:
    """The lines and totals of a run that failed: none when its transaction
    held them (they were rolled back with it); those its engine committed on a
    connection of its own when the run's transaction then failed or its worker
    was lost (see `reconciliation.engine_session`)."""
    delete_lines(run_id, Run.objects.filter(pk=run_id).values_list("line_ranges", flat=True).first())
    RunTotal.objects.filter(run_id=run_id).delete()
    Run.objects.filter(pk=run_id).update(line_ranges={})


def fail_lost_runs(now: dt.datetime | None = None) -> int:
    """Runs still `running` past the broker's retry time lost their worker: their
    transaction rolled back, and a redelivered task finds them claimed. Mark them
    failed, so that the reconciliation can run again."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.Q_CLUSTER["retry"])
    lost = Run.objects.filter(status=Run.Status.RUNNING, started_at__lt=cutoff).select_related(
        "reconciliation"
    )
    failed = 0
    for run in lost:
        with transaction.atomic():
            if Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
                status=Run.Status.FAILED, finished_at=now, error=LOST_RUN
            ):
                failed += 1
                discard_results(run.pk)
                _give_back_resubmissions(run, LOST_RUN)
    return failed


def _give_back_resubmissions(run: Run, error: str) -> None:
    """Breaks resubmitted to this run wait on it: a failed run puts them back."""
    message = f"Run {run.pk} of {run.reconciliation.name}, which was to check this again, failed: {error}"
    resubmit.reopen_resubmissions(run.reconciliation, message, system_actor(run))


def latest_runs_stale(*, older_than: dt.timedelta = dt.timedelta(minutes=30)) -> list[int]:
    """Queued runs no worker took (the broker was down when they were requested)."""
    cutoff = timezone.now() - older_than
    return list(
        Run.objects.filter(status=Run.Status.QUEUED, created_at__lt=cutoff).values_list("pk", flat=True)
    )
