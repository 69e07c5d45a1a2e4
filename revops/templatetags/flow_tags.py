"""Display helpers of the Flow page: lags and SLA limits in words."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def lag(value: dt.timedelta | None) -> str:
    """A duration as a person reads it: "2 d 3 h", "4 h 05 min", "12 min", "40 s";
    a step recorded before the one it follows shows a minus sign."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    sign, seconds = ("−", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        text = f"{hours} h {minutes:02d} min"
    elif minutes:
        text = f"{minutes} min"
    else:
        text = f"{secs} s"
    return sign + text


@register.filter
def hours(value: int) -> str:
    """An SLA limit in hours, in days when it is whole days: 48 → "2 d", 4 → "4 h"."""
    return f"{value // 24} d" if value >= 24 and value % 24 == 0 else f"{value} h"
