"""Upcoming fire times of a five-field cron expression, for judging freshness.

Django-Q2 runs cron schedules with croniter; the pages read the same
expressions with the same library, so "when would this fire next" on the
connector list agrees with when the worker actually runs it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

from croniter import CroniterError, croniter


class CronError(ValueError):
    """An expression that cannot be read."""


def upcoming(expression: str, after: dt.datetime) -> Iterator[dt.datetime]:
    """Fire times strictly after `after`, in its time zone."""
    if len((expression or "").split()) != 5:
        raise CronError("a cron expression has five fields")
    try:
        # day_or=True: a restricted day-of-month and day-of-week match either (Vixie cron).
        schedule = croniter(expression, after, day_or=True)
    except (CroniterError, ValueError, KeyError) as exc:
        raise CronError(str(exc)) from None
    while True:
        yield schedule.get_next(dt.datetime)


def longest_gap(expression: str, after: dt.datetime, *, runs: int = 8) -> dt.timedelta | None:
    """The longest wait between consecutive fire times among the next `runs`, so a
    weekday-only schedule is not called late over a weekend; None when the
    expression cannot be read."""
    try:
        times = list(itertools.islice(upcoming(expression, after), runs))
    except CronError:
        return None
    if len(times) < 2:
        return None
    return max(later - earlier for earlier, later in itertools.pairwise(times))
