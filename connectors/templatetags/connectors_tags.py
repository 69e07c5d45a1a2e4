"""Display helpers for the connector pages: times relative and absolute, durations."""

from __future__ import annotations

import datetime as dt
import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def relative(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "5 min ago", "in 3 h", "just now"."""
    delta = (when - (now or timezone.now())).total_seconds()
    if abs(delta) < 5:
        return "just now"
    return f"in {_span(delta)}" if delta > 0 else f"{_span(delta)} ago"


@register.simple_tag
def when(value, empty: str = "—") -> str:
    """A time as "5 min ago" with the absolute UTC time beside it (and in the tooltip)."""
    if not value:
        return format_html('<span class="muted">{}</span>', empty)
    absolute = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time> <span class="abs-time">{}</span>',
        value.isoformat(),
        timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S"),
        relative(value),
        absolute,
    )


@register.filter
def duration(value) -> str:
    """A timedelta as "2 h 05 min", "3 min 07 s" or "4.2 s"; empty for none."""
    if value is None or value == "":
        return ""
    seconds = max(value.total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def compact_json(value) -> str:
    """A JSON value on one line, keys sorted (the template escapes it)."""
    return json.dumps(value, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)


OVERDUE_AFTER = dt.timedelta(minutes=2)


@register.simple_tag
def due(value) -> str:
    """When a schedule fires next: "in 12 min", or "due now" / "overdue by 1 h" when
    the time has passed (no worker picked it up)."""
    if not value:
        return format_html('<span class="muted">{}</span>', "—")
    late = timezone.now() - value
    if late <= dt.timedelta(0):
        return when(value)
    absolute = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if late < OVERDUE_AFTER:
        return format_html('due now <span class="abs-time">{}</span>', absolute)
    return format_html(
        '<span class="warn" title="Is the Django-Q2 cluster running?">overdue by {}</span> <span class="abs-time">{}</span>',
        _span(late.total_seconds()),
        absolute,
    )
