"""Template helpers of the exception item detail page: the payload as an
indented tree with the failing values highlighted, and small time labels."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from exceptions_queue.payload_paths import as_text

register = template.Library()

# A payload with more values than this is shown collapsed, except the branches
# that lead to a failing value.
LARGE_PAYLOAD_NODES = 60
# Never render more than this many values, whatever the payload's size.
MAX_NODES = 3000
MAX_LIST_ITEMS = 200


def _count(value: Any, limit: int) -> int:
    """Values in `value`, counting up to `limit` at most."""
    stack, seen = [value], 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return seen


class _Tree:
    def __init__(self, failing: set[str], corrected: dict[str, Any], large: bool):
        self.failing = failing
        self.corrected = corrected
        self.large = large
        self.budget = MAX_NODES
        # Every ancestor of a failing or corrected path, so its branch opens.
        self.on_path: set[str] = set()
        for path in failing | set(corrected):
            parts = path.split(".")
            for i in range(1, len(parts)):
                self.on_path.add(".".join(parts[:i]))

    def leaf(self, value: Any) -> SafeString:
        if value is None:
            return format_html('<span class="pt-null">null</span>')
        if isinstance(value, bool):
            return format_html('<span class="pt-bool">{}</span>', "true" if value else "false")
        if isinstance(value, int | float):
            return format_html('<span class="pt-num">{}</span>', value)
        return format_html('<span class="pt-str">"{}"</span>', value)

    def children(self, value: dict | list, path: str) -> SafeString:
        if isinstance(value, dict):
            pairs: Iterable = value.items()
            total = len(value)
        else:
            total = len(value)
            pairs = ((str(i), v) for i, v in enumerate(value[:MAX_LIST_ITEMS]))
        parts = []
        shown = 0
        for key, child in pairs:
            if self.budget <= 0:
                break
            parts.append(self.node(str(key), child, f"{path}.{key}" if path else str(key)))
            shown += 1
        if shown < total:
            parts.append(format_html('<li class="pt-more muted">… {} more not shown</li>', total - shown))
        return format_html('<ul class="pt-list">{}</ul>', mark_safe("".join(parts)))  # noqa: S308 - built from format_html parts

    def node(self, key: str, value: Any, path: str) -> SafeString:
        self.budget -= 1
        failing = path in self.failing
        css = "pt-fail" if failing else ""
        if isinstance(value, dict | list):
            size = f"{{{len(value)} keys}}" if isinstance(value, dict) else f"[{len(value)} items]"
            is_open = not self.large or path in self.on_path or failing
            if path in self.corrected:
                css += " pt-corrected"
            return format_html(
                '<li class="pt-node {}" data-path="{}"><details{}><summary><span class="pt-key">{}</span> '
                '<span class="pt-size">{}</span></summary>{}</details></li>',
                css,
                path,
                " open" if is_open else "",
                key,
                size,
                self.children(value, path),
            )
        correction = ""
        if path in self.corrected:
            css += " pt-corrected"
            correction = format_html(
                ' <span class="pt-arrow" aria-hidden="true">→</span> <span class="new" title="Corrected value">{}</span>',
                as_text(self.corrected[path]),
            )
        return format_html(
            '<li class="pt-leaf {}" data-path="{}"><span class="pt-key">{}</span>: {}{}</li>',
            css,
            path,
            key,
            self.leaf(value),
            correction,
        )


@register.simple_tag
def payload_tree(payload: Any, failing: Iterable[str] = (), corrected: dict | None = None) -> SafeString:
    """The payload as nested lists; failing paths marked `pt-fail`, corrected ones
    show their new value. Large payloads open only along the failing paths."""
    corrected = {k: v for k, v in (corrected or {}).items() if not str(k).startswith("_")}
    large = _count(payload, LARGE_PAYLOAD_NODES + 1) > LARGE_PAYLOAD_NODES
    tree = _Tree(set(failing), corrected, large)
    if isinstance(payload, dict | list):
        if not payload:
            return format_html('<p class="empty">{}</p>', "The item carries no payload.")
        body = tree.children(payload, "")
    else:
        body = format_html('<ul class="pt-list">{}</ul>', tree.node("value", payload, ""))
    note = ""
    if tree.budget <= 0:
        note = format_html('<p class="muted">Only the first {} values are shown.</p>', MAX_NODES)
    return format_html('<div class="payload-tree">{}{}</div>', body, note)


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@register.simple_tag
def since(when: dt.datetime | None, empty: str = "—") -> SafeString:
    """ "3 hours ago" with the exact UTC time on hover; "in 2 hours" for a future time."""
    if when is None:
        return format_html('<span class="muted">{}</span>', empty)
    now = timezone.now()
    exact = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if when <= now:
        label = f"{timesince(when, now).split(',')[0]} ago"
    else:
        label = f"in {timesince(now, when).split(',')[0]}"
    return format_html('<time datetime="{}" title="{}">{}</time>', when.isoformat(), exact, label)


@register.filter
def value_text(value: Any) -> str:
    return as_text(value)
