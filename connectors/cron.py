"""Upcoming fire times of a five-field cron expression, for judging freshness.

Django-Q2 needs croniter to run cron schedules, but the pages must not break
where it is missing, and they only need "when would this fire next": numbers,
`*`, ranges, steps, lists and month/day names, with Vixie cron's rule that a
restricted day-of-month and a restricted day-of-week match either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

_MONTHS = {
    name: i
    for i, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {name: i for i, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
# (low, high, names) for minute, hour, day of month, month, day of week
_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 7, _DAYS))
SEARCH_DAYS = 4 * 366 + 1  # long enough to meet 29 February


class CronError(ValueError):
    """An expression this module cannot read."""


def _value(text: str, low: int, high: int, names: dict[str, int]) -> int:
    number = names.get(text.lower()) if not text.isdigit() else int(text)
    if number is None or not low <= number <= high:
        raise CronError(f"{text!r} is not between {low} and {high}")
    return number


def _field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"{item!r} has a bad step")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            first, _, last = span.partition("-")
            start, end = _value(first, low, high, names), _value(last, low, high, names)
        else:
            start = _value(span, low, high, names)
            end = high if step else start
        if start > end:
            raise CronError(f"{item!r} runs backwards")
        values.update(range(start, end + 1, step or 1))
    return values


def parse(expression: str) -> tuple[set[int], set[int], set[int], set[int], set[int], bool]:
    """(minutes, hours, days, months, weekdays 0=Sunday, days OR weekdays)."""
    parts = (expression or "").split()
    if len(parts) != 5:
        raise CronError("a cron expression has five fields")
    minutes, hours, days, months, weekdays = (
        _field(part, low, high, names) for part, (low, high, names) in zip(parts, _FIELDS, strict=True)
    )
    weekdays = {0 if day == 7 else day for day in weekdays}
    either = not parts[2].startswith("*") and not parts[4].startswith("*")
    return minutes, hours, days, months, weekdays, either


def upcoming(expression: str, after: dt.datetime) -> Iterator[dt.datetime]:
    """Fire times strictly after `after`, in its time zone, for up to four years."""
    minutes, hours, days, months, weekdays, either = parse(expression)
    hour_list, minute_list = sorted(hours), sorted(minutes)
    start = after.replace(second=0, microsecond=0)
    for offset in range(SEARCH_DAYS):
        day = (start + dt.timedelta(days=offset)).date()
        if day.month not in months:
            continue
        in_month, in_week = day.day in days, (day.isoweekday() % 7) in weekdays
        if not ((in_month or in_week) if either else (in_month and in_week)):
            continue
        for hour in hour_list:
            for minute in minute_list:
                when = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=after.tzinfo)
                if when > after:
                    yield when


def longest_gap(expression: str, after: dt.datetime, *, runs: int = 8) -> dt.timedelta | None:
    """The longest wait between consecutive fire times among the next `runs`, so a
    weekday-only schedule is not called late over a weekend; None when it fires
    fewer than twice in four years or cannot be read."""
    try:
        times = []
        for when in upcoming(expression, after):
            times.append(when)
            if len(times) >= runs:
                break
    except CronError:
        return None
    if len(times) < 2:
        return None
    return max(later - earlier for earlier, later in zip(times, times[1:], strict=False))
